/**
 * Bronze throughput: `node --import tsx bench/bronze.ts [--records N] [--batch-size B]
 *   [--partitions-concurrently P] [--max-bytes-per-partition BYTES]` (defaults: the role's defaults).
 *
 * Fills a fresh topic with N Avro workspace records, runs the bronze writer over it (the real
 * consumer, decoder, COPY + INSERT … ON CONFLICT, offset commits) until all N rows are written, then
 * loads the same N rows into a scratch copy of the table with one plain COPY: the fastest Postgres
 * can ingest them, the writer's upper bound. Prints both rates, their ratio, and peak RSS, and
 * removes everything it created. Uses the instance of the environment (runtime/endpoints.ts).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createKafka } from '../common/kafka.ts';
import { createTopicLimits } from '../common/kafka-limits.ts';
import { createLogger } from '../common/logger.ts';
import { createRoleMetrics } from '../common/metrics.ts';
import { createSchemaRegistry, registerValueSchema } from '../common/registry.ts';
import { createTopicsReady, deleteTopicsGone } from '../common/topic-admin.ts';
import { waitFor } from '../common/wait-for.ts';
import { createBronzeConsumer } from '../consumers/bronze/consumer.ts';
import { createBronzeMetrics } from '../consumers/bronze/ingest.ts';
import { LINEAGE_COLUMNS, WORKSPACES_TABLE } from '../consumers/bronze/tables.ts';
import { consumerConfig } from '../consumers/shared/consumer-config.ts';
import { copyLine } from '../consumers/shared/copy-text.ts';
import { createDeadLetterQueue } from '../consumers/shared/dead-letter.ts';
import { HEADERS } from '../contracts/headers.ts';
import { METRICS } from '../contracts/metrics/index.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import type { Workspace } from '../schemas/generated/types.ts';
import { avroType } from '../schemas/index.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    'batch-size': { type: 'string', default: '5000' },
    'partitions-concurrently': { type: 'string', default: '2' },
    'max-bytes-per-partition': { type: 'string', default: String(2 * 1024 * 1024) },
  },
});
const N = Number(args.records);
const BATCH_SIZE = Number(args['batch-size']);
const CONCURRENCY = Number(args['partitions-concurrently']);
const MAX_BYTES = Number(args['max-bytes-per-partition']);
if (![N, BATCH_SIZE, CONCURRENCY, MAX_BYTES].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error(
    'usage: node --import tsx bench/bronze.ts [--records N] [--batch-size B] [--partitions-concurrently P] [--max-bytes-per-partition BYTES]',
  );
  process.exit(2);
}

const infra = infraOptions(process.env);
const run = randomUUID().slice(0, 8);
const topic = `bench.raw.workspaces-${run}`;
const groupId = `bench.bronze-${run}`;
const scratch = `bench_copy_${run}`;
const kafka = createKafka(infra.kafka, `bench-bronze-${run}`, createLogger('bench', 'warn'));
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const pool = new pg.Pool({ connectionString: infra.postgres.url, max: CONCURRENCY + 2 });
const log = (line: string) => console.log(`[bench] ${line}`);
const rate = (rows: number, ms: number) => Math.round((rows * 1000) / ms);

function workspace(i: number): Workspace {
  const t = Date.UTC(2026, 0, 1) + i;
  return {
    id: randomUUID(),
    name: `Workspace ${i}`,
    plan: (['free', 'starter', 'pro', 'enterprise'] as const)[i % 4]!,
    segment: i % 3 === 0 ? 'enterprise' : 'smb',
    country: ['FR', 'DE', 'US', 'JP'][i % 4]!,
    owner_email: `owner${i}@example.com`,
    created_at: t,
    updated_at: t + 1000,
  };
}

async function fillTopic(schemaId: number): Promise<void> {
  const type = avroType('workspace');
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const fetchedAt = new Date().toISOString();
    for (let start = 0; start < N; start += 10_000) {
      const messages = [];
      for (let i = start; i < Math.min(N, start + 10_000); i++) {
        const w = workspace(i);
        messages.push({
          key: w.id,
          value: Buffer.concat([header, type.toBuffer(w)]),
          headers: {
            [HEADERS.source]: 'bench',
            [HEADERS.fetchedAt]: fetchedAt,
            [HEADERS.requestId]: run,
          },
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Runs the bronze writer from the first offset until N rows are written; ms from group join to done. */
async function runWriter(): Promise<{ ms: number; totalMs: number }> {
  const metrics = createRoleMetrics('bronze-bench');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let joinedAt = 0;
  const createConsumer = () => {
    const consumer = kafka.consumer(
      consumerConfig(
        groupId,
        { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3000 },
        { maxBytesPerPartition: MAX_BYTES },
      ),
    );
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joinedAt ||= performance.now();
    });
    return consumer;
  };
  const writer = createBronzeConsumer({
    createConsumer,
    registry,
    pool,
    deadLetters: createDeadLetterQueue({ producer, groupId, limits: createTopicLimits({ kafka }) }),
    metrics: createBronzeMetrics(metrics),
    logger: createLogger('bench', 'warn'),
    topic: { name: 'workspaces', topic, dlqTopic: `dlq.${topic}`, groupId },
    options: { batchSize: BATCH_SIZE, partitionsConcurrently: CONCURRENCY },
  });
  const started = performance.now();
  try {
    await writer.start();
    const written = metrics.registry.getSingleMetric(METRICS.bronze.rowsWritten.name)!;
    await waitFor(async () => (await written.get()).values.reduce((n, v) => n + v.value, 0) >= N, {
      timeoutMs: 30 * 60_000,
      intervalMs: 20,
      what: `${N} rows written by the bronze writer`,
    });
    const done = performance.now();
    return { ms: done - joinedAt, totalMs: done - started };
  } finally {
    await writer.close();
    await producer.disconnect();
  }
}

/** One COPY of the same rows into a scratch table shaped like bronze.workspaces (keys and indexes). */
async function runCopy(schemaId: number): Promise<number> {
  const columns = [...WORKSPACES_TABLE.recordColumns, ...LINEAGE_COLUMNS].map((c) => pg.escapeIdentifier(c));
  const now = new Date().toISOString();
  const text: string[] = [];
  for (let i = 0; i < N; i++) {
    const values = WORKSPACES_TABLE.values(workspace(i));
    text.push(copyLine([...values, topic, i % 3, i, now, schemaId, 'bench', run, now]));
  }
  await pool.query(`CREATE TABLE ${pg.escapeIdentifier(scratch)} (LIKE bronze.workspaces INCLUDING ALL)`);
  const client = await pool.connect();
  try {
    const started = performance.now();
    const sql = `COPY ${pg.escapeIdentifier(scratch)} (${columns.join(', ')}) FROM STDIN`;
    await pipeline(Readable.from(text), client.query(copyFrom(sql)));
    return performance.now() - started;
  } finally {
    client.release();
  }
}

async function cleanUp(): Promise<void> {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['topics', () => deleteTopicsGone(admin, [topic, `dlq.${topic}`])],
    ['group', deleteGroup],
    ['bronze rows', () => pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [topic])],
    ['scratch table', () => pool.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(scratch)}`)],
    ['schema subject', () => deleteSubject(`${topic}-value`)],
  ];
  for (const [what, step] of steps)
    await step().catch((err) => log(`clean-up of ${what} failed: ${err.message}`));
  await admin.disconnect();
  await pool.end();
}

/** Right after the writer leaves, the coordinator may still see the group as non-empty: retry. */
async function deleteGroup(): Promise<void> {
  await waitFor(
    () =>
      admin.deleteGroups([groupId]).then(
        () => true,
        (err: { groups?: Array<{ error?: { type?: string } }> }) => {
          const type = err.groups?.[0]?.error?.type;
          if (type === 'GROUP_ID_NOT_FOUND') return true;
          throw new Error(type ?? String(err));
        },
      ),
    { timeoutMs: 30_000, intervalMs: 500, what: `consumer group ${groupId} to be deleted` },
  );
}

/** The registry client has no delete: the Confluent API's soft then permanent delete. */
async function deleteSubject(subject: string): Promise<void> {
  const url = `${infra.registry.url}/subjects/${encodeURIComponent(subject)}`;
  const auth =
    infra.registry.username !== undefined
      ? {
          authorization: `Basic ${Buffer.from(`${infra.registry.username}:${infra.registry.password ?? ''}`).toString('base64')}`,
        }
      : undefined;
  for (const suffix of ['', '?permanent=true']) {
    const res = await fetch(url + suffix, { method: 'DELETE', headers: auth });
    if (!res.ok && res.status !== 404) throw new Error(`DELETE ${subject}${suffix}: HTTP ${res.status}`);
  }
}

try {
  await admin.connect();
  await createTopicsReady(admin, [
    { topic, numPartitions: infra.topicPartitions },
    { topic: `dlq.${topic}`, numPartitions: 1 },
  ]);
  const schemaId = await registerValueSchema(registry, topic, 'workspace');
  log(`filling ${topic} (${infra.topicPartitions} partitions) with ${N} records…`);
  const fillStart = performance.now();
  await fillTopic(schemaId);
  log(`filled in ${Math.round(performance.now() - fillStart)} ms`);
  log(
    `bronze writer: batch size ${BATCH_SIZE}, ${CONCURRENCY} partition(s) at a time, ${MAX_BYTES} bytes per fetch…`,
  );
  const writer = await runWriter();
  log('plain COPY of the same rows…');
  const copyMs = await runCopy(schemaId);
  const writerRate = rate(N, writer.ms);
  const copyRate = rate(N, copyMs);
  console.log(`
records                 ${N}
bronze writer           ${writerRate} rows/s (${Math.round(writer.ms)} ms from group join; ${Math.round(writer.totalMs)} ms with start-up)
plain COPY              ${copyRate} rows/s (${Math.round(copyMs)} ms)
writer / COPY           ${(writerRate / copyRate).toFixed(2)}
peak RSS                ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
} finally {
  await cleanUp();
}
