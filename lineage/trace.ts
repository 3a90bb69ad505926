import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { Collection } from 'mongodb';
import { describeError } from '../common/errors.ts';
import { ENRICHMENT_JOBS_TABLE, WORKSPACES_TABLE } from '../consumers/bronze/tables.ts';
import type { LineageOptions } from './options.ts';
import {
  type BronzeVersion,
  bronzeJobVersions,
  bronzeWorkspaceVersions,
  type GoldRow,
  iso,
  mongoGoldDocument,
  postgresGoldRow,
  type Query,
} from './stores.ts';
import { type GoldFound, scanDeadLetters, scanGold } from './topics.ts';
import type { GoldHop, Hop, HopName, JobLineage, ScanReport, VersionTrace } from './types.ts';

/**
 * `tributary trace <job-id>` and `GET /api/jobs/{id}/lineage`: every version of a job and of its
 * workspace from the source request to the gold stores. Bronze rows give each version's request,
 * fetch time and raw position; the gold topic gives the records each version made the processor
 * emit (a bounded read of the job's partition, see topics.ts); the stores give the record they
 * hold (its gold partition/offset is stored with it). A part that cannot be read is a `problem`
 * of the answer, not a failure of the whole trace.
 */
export interface LineageDeps {
  kafka: Kafka;
  admin: Admin;
  registry: Pick<SchemaRegistry, 'decode'>;
  db: Query;
  mongo: () => Promise<Collection<{ _id: string }>>;
}

/** The margin before the first fetch in which a dead letter of the job is looked for. */
const DLQ_MARGIN_MS = 10 * 60_000;

/** null when nothing at all is known of the job (no bronze row, no gold row or document). */
export async function traceJob(
  deps: LineageDeps,
  options: LineageOptions,
  jobId: string,
  now: () => number = Date.now,
): Promise<JobLineage | null> {
  const problems: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      problems.push(`${what}: ${describeError(err)}`);
      return fallback;
    }
  };
  const { topics } = options;
  const [jobs, postgres, mongo] = await Promise.all([
    attempt('bronze (Postgres)', () => bronzeJobVersions(deps.db, jobId, topics.rawJobs), []),
    attempt('gold row (Postgres)', () => postgresGoldRow(deps.db, options.goldTable, jobId), null),
    attempt('gold document (MongoDB)', async () => mongoGoldDocument(await deps.mongo(), jobId), null),
  ]);
  if (jobs.length === 0 && !postgres && !mongo && problems.length === 0) return null;
  const workspaceId = jobs.at(-1)?.workspaceId ?? postgres?.workspaceId ?? mongo?.workspaceId ?? null;
  const workspaces =
    workspaceId === null
      ? []
      : await attempt(
          'bronze workspaces (Postgres)',
          () => bronzeWorkspaceVersions(deps.db, workspaceId, topics.rawWorkspaces),
          [],
        );

  // Without bronze rows (bronze emptied, or not there yet) the job's creation bounds the searches:
  // it was fetched, and all the rest happened, after it was created.
  const createdAt = Date.parse(postgres?.createdAt ?? mongo?.createdAt ?? '');
  const fallback = jobs.length === 0 ? [createdAt] : [];
  const firstRaw = min([
    ...jobs.map((v) => v.kafkaTimestamp?.getTime() ?? v.ingestedAt.getTime()),
    ...fallback,
  ]);
  const firstFetch = min([
    ...[...jobs, ...workspaces].map((v) => v.fetchedAt?.getTime() ?? Number.NaN),
    ...fallback,
  ]);
  const gold = await attempt(
    `gold topic ${topics.gold}`,
    () =>
      scanGold(deps, {
        topic: topics.gold,
        jobId,
        partition: postgres?.partition ?? mongo?.partition,
        // the clocks of the producer and the broker may differ a little
        sinceMs: firstRaw === null ? null : firstRaw - 1000,
        limit: options.goldScanLimit,
        exact: [postgres, mongo].filter((r) => r !== null && BigInt(r.offset) >= 0n).map((r) => r!.offset),
        timeoutMs: options.timeoutMs,
      }),
    { records: [] as GoldFound[], scans: [] as ScanReport[] },
  );
  const dlq = await attempt(
    'dead-letter topics',
    () =>
      scanDeadLetters(deps, {
        topics: topics.dlqs,
        workspaceTopics: topics.workspaceDlqs,
        jobId,
        workspaceId,
        sinceMs: firstFetch === null ? null : firstFetch - DLQ_MARGIN_MS,
        limit: options.dlqScanLimit,
        timeoutMs: options.timeoutMs,
      }),
    { letters: [], scans: [] },
  );
  return {
    jobId,
    workspaceId,
    tracedAt: new Date(now()).toISOString(),
    ...assemble({ jobs, workspaces, gold: gold.records, goldTopic: topics.gold, postgres, mongo, options }),
    stores: { postgres: strip(postgres), mongo: strip(mongo) },
    deadLetters: dlq.letters,
    scans: [...gold.scans, ...dlq.scans],
    problems,
  };
}

const strip = (r: GoldRow | null) => {
  if (!r) return null;
  const { workspaceId: _, createdAt: _c, ...row } = r;
  return row;
};

function min(values: number[]): number | null {
  const ok = values.filter((v) => Number.isFinite(v));
  return ok.length === 0 ? null : Math.min(...ok);
}

/** Puts the pieces together: which gold record each version caused, and the hops of each version. */
export function assemble(input: {
  jobs: BronzeVersion[];
  workspaces: BronzeVersion[];
  gold: GoldFound[];
  goldTopic: string;
  postgres: GoldRow | null;
  mongo: GoldRow | null;
  options: Pick<LineageOptions, 'goldTable' | 'mongo'>;
}): Pick<JobLineage, 'jobVersions' | 'workspaceVersions' | 'otherGold'> {
  const byTime = (vs: BronzeVersion[]) => new Map(vs.map((v) => [v.updatedAt.getTime(), v]));
  const jobAt = byTime(input.jobs);
  const wsAt = byTime(input.workspaces);
  const caused = new Map<BronzeVersion, GoldHop[]>();
  const otherGold: GoldHop[] = [];
  let previous: { ju: number | null; wu: number | null } | undefined;
  // input.gold is in offset order on the job's one partition: the order the processor emitted it
  for (const g of input.gold) {
    const ju = msOf(g.value.job_updated_at);
    const wu = msOf(g.value.workspace_updated_at);
    const job = ju === null ? undefined : jobAt.get(ju);
    const ws = wu === null ? undefined : wsAt.get(wu);
    // A job version emits a record with the job's new updated_at; a workspace version re-emits
    // the job's records with the same job version and its own updated_at. The first record seen
    // is the job's (the processor emits for a workspace only the jobs it already holds).
    const trigger: 'job' | 'workspace' =
      previous !== undefined && previous.ju === ju && previous.wu !== wu ? 'workspace' : 'job';
    previous = { ju, wu };
    const same = (r: GoldRow | null) => r !== null && r.partition === g.partition && r.offset === g.offset;
    const hop: GoldHop = {
      topic: input.goldTopic,
      partition: g.partition,
      offset: g.offset,
      at: iso(g.timestamp),
      processedAt: iso(msOf(g.value.processed_at)),
      jobUpdatedAt: iso(ju) ?? '',
      workspaceUpdatedAt: iso(wu),
      status: String(g.value.status),
      trigger,
      postgres: same(input.postgres)
        ? { table: input.options.goldTable, writtenAt: input.postgres!.writtenAt }
        : null,
      mongo: same(input.mongo)
        ? {
            collection: `${input.options.mongo.database}.${input.options.mongo.collection}`,
            writtenAt: input.mongo!.writtenAt,
          }
        : null,
    };
    const cause = trigger === 'job' ? job : ws;
    if (cause) caused.set(cause, [...(caused.get(cause) ?? []), hop]);
    else otherGold.push(hop);
  }
  const trace = (entity: 'job' | 'workspace') => (v: BronzeVersion) =>
    versionTrace(entity, v, caused.get(v) ?? []);
  return {
    jobVersions: input.jobs.map(trace('job')),
    workspaceVersions: input.workspaces.map(trace('workspace')),
    otherGold,
  };
}

function versionTrace(entity: 'job' | 'workspace', v: BronzeVersion, gold: GoldHop[]): VersionTrace {
  const hops: Hop[] = [];
  const at = new Map<HopName, string | null>();
  const add = (hop: HopName, where: string, when: string | null, after: HopName | null) => {
    const base = after === null ? null : (at.get(after) ?? null);
    hops.push({
      hop,
      where,
      at: when,
      after,
      afterMs: when === null || base === null ? null : Date.parse(when) - Date.parse(base),
    });
    at.set(hop, when);
  };
  const raw = `${v.topic}/${v.partition}@${v.offset}`;
  add('source', `${v.source ?? 'source'} request ${v.requestId ?? '(unknown)'}`, iso(v.fetchedAt), null);
  add('raw', raw, iso(v.kafkaTimestamp), 'source');
  add('bronze', tableOf(entity), iso(v.ingestedAt), 'raw');
  for (const g of gold) {
    add('gold', `${g.topic}/${g.partition}@${g.offset}`, g.at ?? g.processedAt, 'raw');
    if (g.postgres) add('postgres', g.postgres.table, g.postgres.writtenAt, 'gold');
    if (g.mongo) add('mongo', g.mongo.collection, g.mongo.writtenAt, 'gold');
  }
  return {
    entity,
    id: v.id,
    updatedAt: v.updatedAt.toISOString(),
    state: v.state,
    source: { api: v.source, requestId: v.requestId, fetchedAt: iso(v.fetchedAt) },
    raw: {
      topic: v.topic,
      partition: v.partition,
      offset: v.offset,
      at: iso(v.kafkaTimestamp),
      schemaId: v.schemaId,
    },
    bronze: { table: tableOf(entity), ingestedAt: v.ingestedAt.toISOString() },
    gold,
    hops,
  };
}

const tableOf = (entity: 'job' | 'workspace') =>
  entity === 'job' ? ENRICHMENT_JOBS_TABLE.table : WORKSPACES_TABLE.table;

/** A decoded timestamp-millis (a number, or a Date when a logical type is applied) as epoch ms. */
function msOf(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
