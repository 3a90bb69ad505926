/**
 * MongoDB gold write patterns: `node --import tsx bench/mongo-gold.ts [--docs N] [--old-docs M]
 *   [--batch B] [--json]` (defaults 20,000 / 500 / 1,000).
 *
 * On the MongoDB of the environment (runtime/endpoints.ts: the running local instance by default), in
 * collections with random names shaped like the gold collection (the sink's indexes), all dropped at
 * the end. Measures, in docs/s and as a ratio to (a):
 *   (a) bare `insertMany` of N new gold documents in batches of B: the baseline
 *   (b) the sink's former write pattern (kept here only, for comparison): unordered `updateOne`
 *       upserts filtered on `_id` + "stored version is older", on M newer versions of the N stored
 *       documents, in bulks of 100: mongo-java-server scans the collection for each of them, and
 *       holds its lock for the whole command, so a bulk of 1,000 outlasts the driver's heartbeat
 *       timeout and the driver drops the connection (MongoBulkWriteError "server monitor timeout")
 *   (c) the gold sink (consumers/gold-sinks/mongo-sink.ts) on N new documents, batches of B
 *   (d) the gold sink on an update round: every document a later record of the topic
 *   (e) the gold sink on a replay round: every record already stored (all stale)
 * and two bench-only update patterns that show what the sink's compare-and-set costs:
 *   (f) bare `replaceOne` by `_id` alone (no read, no guard): the ceiling of an update round
 *   (g) like (d) but `updateOne` `$set` instead of `replaceOne` (same read, same guard)
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  type AnyBulkWriteOperation,
  type Collection,
  type Filter,
  MongoBulkWriteError,
  MongoClient,
} from 'mongodb';
import { waitFor } from '../common/wait-for.ts';
import {
  createMongoGoldSink,
  GOLD_MONGO_INDEXES,
  GOLD_MONGO_POSITION_INDEX,
  type GoldDocument,
  toGoldDocument,
} from '../consumers/gold-sinks/mongo-sink.ts';
import type { GoldRecord } from '../consumers/gold-sinks/version.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import type { EnrichmentJobGold } from '../schemas/generated/types.ts';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '20000' },
    'old-docs': { type: 'string', default: '500' },
    batch: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.docs);
const OLD = Number(args['old-docs']);
const BATCH = Number(args.batch);
if (![N, OLD, BATCH].every((n) => Number.isInteger(n) && n >= 1) || OLD > N) {
  console.error(
    'usage: node --import tsx bench/mongo-gold.ts [--docs N] [--old-docs M ≤ N] [--batch B] [--json]',
  );
  process.exit(2);
}

const infra = infraOptions(process.env);
const run = randomUUID().slice(0, 8);
// mongo-java-server runs one command at a time for all its clients: on a shared server another
// client's slow command can stall a heartbeat past the default 30 s, and the driver would then drop
// the connection under a bulk in flight. A long heartbeat timeout keeps the measurement going.
const client = new MongoClient(infra.mongo.url, { connectTimeoutMS: 300_000 });
const db = client.db('tributary');
const created: string[] = [];
const log = (line: string) => {
  if (!args.json) console.log(`[bench] ${line}`);
};
const T = Date.UTC(2026, 0, 1);
const PARTITIONS = 3;
const FORMER_BATCH = 100;

/** A gold record as the processor emits it; `round` makes each round's record a later one. */
function record(jobId: string, i: number, round: number): GoldRecord {
  const plans = ['free', 'starter', 'pro', 'enterprise'] as const;
  const value: EnrichmentJobGold = {
    job_id: jobId,
    workspace_id: `00000000-0000-4000-8000-${String(i % 2000).padStart(12, '0')}`,
    kind: i % 2 === 0 ? 'person' : 'company',
    status: round === 0 ? 'processing' : 'completed',
    requested_count: 100,
    enriched_count: 40 + round,
    failed_count: 2,
    error_code: null,
    created_at: T + i,
    finished_at: round === 0 ? null : T + i + 60_000,
    workspace_name: `Workspace ${i % 2000}`,
    workspace_plan: plans[i % 4]!,
    workspace_segment: i % 3 === 0 ? 'enterprise' : 'smb',
    workspace_country: ['FR', 'DE', 'US', 'JP'][i % 4]!,
    workspace_resolved: true,
    duration_ms: round === 0 ? null : 60_000,
    success_rate: (40 + round) / 100,
    is_terminal: round !== 0,
    job_updated_at: T + i + round * 60_000,
    workspace_updated_at: T,
    processed_at: Date.now(),
  };
  // Positions as on a gold topic of 3 partitions: round r of job i at offset r * N + i.
  return { value, partition: i % PARTITIONS, offset: String(round * N + i) };
}

async function goldCollection(name: string): Promise<Collection<GoldDocument>> {
  const full = `bench_gold_${run}_${name}`;
  created.push(full);
  const coll = db.collection<GoldDocument>(full);
  await coll.createIndexes([
    ...GOLD_MONGO_INDEXES.map((key) => ({ key: { ...key } })),
    { key: { ...GOLD_MONGO_POSITION_INDEX }, unique: true },
  ]);
  return coll;
}

/** The sink's write pattern before this benchmark: guarded upserts, E11000 = "stored is newer". */
function formerFilter(r: GoldRecord): Filter<GoldDocument> {
  const j = new Date(r.value.job_updated_at);
  const w = r.value.workspace_updated_at === null ? null : new Date(r.value.workspace_updated_at);
  if (w === null) return { _id: r.value.job_id, job_updated_at: { $lt: j } };
  return {
    _id: r.value.job_id,
    $or: [
      { job_updated_at: { $lt: j } },
      { job_updated_at: j, workspace_updated_at: null },
      { job_updated_at: j, workspace_updated_at: { $lt: w } },
    ],
  };
}

async function formerWrite(coll: Collection<GoldDocument>, records: GoldRecord[]): Promise<void> {
  const now = new Date();
  const ops: AnyBulkWriteOperation<GoldDocument>[] = records.map((r) => {
    const { _id, ...fields } = toGoldDocument(r, now);
    return { updateOne: { filter: formerFilter(r), update: { $set: fields }, upsert: true } };
  });
  try {
    await coll.bulkWrite(ops, { ordered: false });
  } catch (err) {
    const errors = err instanceof MongoBulkWriteError ? [err.writeErrors].flat() : [];
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
  }
}

/** (g): the sink's read and guard, written as `updateOne` `$set` (bench-only variant). */
async function setVariantWrite(coll: Collection<GoldDocument>, records: GoldRecord[]): Promise<void> {
  const ids = records.map((r) => r.value.job_id);
  const stored = new Map(
    (
      await coll
        .find(
          { _id: { $in: ids } },
          { projection: { source_partition: 1, source_offset: 1 }, batchSize: ids.length },
        )
        .toArray()
    ).map((d) => [d._id, d]),
  );
  const now = new Date();
  const ops: AnyBulkWriteOperation<GoldDocument>[] = [];
  for (const r of records) {
    const s = stored.get(r.value.job_id);
    if (s === undefined || Number(r.offset) <= Number(s.source_offset)) continue; // bench data: same partition
    const { _id, ...fields } = toGoldDocument(r, now);
    ops.push({
      updateOne: {
        filter: { _id, source_partition: s.source_partition, source_offset: s.source_offset },
        update: { $set: fields },
        upsert: true,
      },
    });
  }
  if (ops.length > 0) await coll.bulkWrite(ops, { ordered: false });
}

interface Row {
  pattern: string;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  ratioToBaseline: number;
}

/**
 * Patterns that compete are run batch by batch in turn (a, c; then d, f, g) on collections that
 * grow alike, so that the load of a shared machine and the server's slowdown as a collection
 * outgrows its cache weigh on each of them the same way; each pattern's time is the sum of its
 * batches.
 */
async function main(): Promise<Row[]> {
  await client.connect();
  const ids = Array.from({ length: N }, () => randomUUID());
  const round = (r: number) => ids.map((id, i) => record(id, i, r));
  const fresh = round(0);
  const later = round(1);
  const ms = new Map<string, number>();
  const counts = new Map<string, number>();
  const time = async (pattern: string, docs: number, fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    ms.set(pattern, (ms.get(pattern) ?? 0) + performance.now() - started);
    counts.set(pattern, (counts.get(pattern) ?? 0) + docs);
  };
  const now = new Date();
  const insertBare = (coll: Collection<GoldDocument>, b: GoldRecord[]) =>
    coll.insertMany(
      b.map((r) => toGoldDocument(r, now)),
      { ordered: false },
    );

  const A = '(a) bare insertMany, batches of 1,000';
  const B = `(b) former guarded updateOne upserts, bulks of ${FORMER_BATCH} (update round, ${N} stored)`;
  const C = '(c) sink, new documents';
  const D = '(d) sink, update round (every record later)';
  const E = '(e) sink, replay round (every record stale)';
  const F = '(f) bare replaceOne by _id, no read, no guard (update round)';
  const G = '(g) read + guard, updateOne $set instead of replaceOne (update round)';

  const base = await goldCollection('baseline');
  const sinkColl = await goldCollection('sink');
  const setColl = await goldCollection('set');
  const sink = createMongoGoldSink({ collection: sinkColl });
  let written = 0;
  for (let i = 0; i < N; i += BATCH) {
    const b = fresh.slice(i, i + BATCH);
    await time(A, b.length, () => insertBare(base, b));
    await time(C, b.length, async () => {
      written += await sink.write(b);
    });
    await insertBare(setColl, b);
  }
  log(`new documents: ${N} done`);
  for (let i = 0; i < N; i += BATCH) {
    const b = later.slice(i, i + BATCH);
    await time(D, b.length, async () => {
      written += await sink.write(b);
    });
    await time(F, b.length, () =>
      base.bulkWrite(
        b.map((r) => {
          const { _id, ...replacement } = toGoldDocument(r, now);
          return { replaceOne: { filter: { _id }, replacement, upsert: true } };
        }),
        { ordered: false },
      ),
    );
    await time(G, b.length, () => setVariantWrite(setColl, b));
  }
  log(`update round: ${N} done`);
  for (let i = 0; i < N; i += BATCH) {
    const b = later.slice(i, i + BATCH);
    await time(E, b.length, async () => {
      written += await sink.write(b);
    });
  }
  if (written !== 2 * N) throw new Error(`the sink wrote ${written} documents, expected ${2 * N}`);
  // Last: on a collection of N documents the former pattern scans all of them per write.
  const old = round(2).slice(0, OLD);
  for (let i = 0; i < old.length; i += FORMER_BATCH) {
    const b = old.slice(i, i + FORMER_BATCH);
    await time(B, b.length, () => formerWrite(base, b));
  }

  const rows = [A, B, C, D, E, F, G].map((pattern) => {
    const docs = counts.get(pattern)!;
    const t = ms.get(pattern)!;
    return { pattern, docs, seconds: Math.round(t) / 1000, docsPerSecond: Math.round((docs * 1000) / t) };
  });
  const baseline = rows[0]!.docsPerSecond;
  return rows.map((r) => ({ ...r, ratioToBaseline: Math.round((r.docsPerSecond / baseline) * 100) / 100 }));
}

/** Drops what the run created; after a failure the server may still be busy with an abandoned bulk. */
async function cleanUp(): Promise<void> {
  for (const name of created) {
    await waitFor(
      () =>
        db
          .collection(name)
          .drop()
          .then(
            () => true,
            (err: Error) => {
              if ((err as { codeName?: string }).codeName === 'NamespaceNotFound') return true;
              log(`drop of ${name} failed (${err.message}); trying again`);
              return false;
            },
          ),
      { timeoutMs: 300_000, intervalMs: 2000, what: `collection ${name} to be dropped` },
    ).catch((err: Error) => console.error(`[bench] ${err.message}: drop it by hand`));
  }
  await client.close();
}

const load = os.loadavg()[0]!.toFixed(1);
let rows: Row[] = [];
try {
  log(`${N} gold documents, batches of ${BATCH}, on ${infra.mongo.url} (load average ${load})`);
  rows = await main();
} finally {
  await cleanUp();
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${load} → ${os.loadavg()[0]!.toFixed(1)}`;
if (args.json) {
  console.log(
    JSON.stringify({ date: new Date().toISOString(), machine, server: infra.mongo.url, rows }, null, 2),
  );
} else {
  const w = Math.max(...rows.map((r) => r.pattern.length));
  console.log(`\n${'pattern'.padEnd(w)}  ${'docs'.padStart(6)}  ${'docs/s'.padStart(7)}  ratio to (a)`);
  for (const r of rows) {
    console.log(
      `${r.pattern.padEnd(w)}  ${String(r.docs).padStart(6)}  ${String(r.docsPerSecond).padStart(7)}  ${r.ratioToBaseline.toFixed(2)}`,
    );
  }
  console.log(`\n${machine}`);
}
