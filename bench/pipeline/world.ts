import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { waitFor } from '../../common/wait-for.ts';
import { readTopology, TOPIC_DECLARATIONS, type TopicKey, topicConfigs } from '../../contracts/topology.ts';
import { migrate } from '../../infra/migrate.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';

/**
 * Everything one benchmark run owns, with names unique to the run, the way the integration tests
 * isolate a pipeline (tests/integration/pipeline-e2e.test.ts): its own topics, consumer groups and
 * transactional ids, its own Postgres database (bronze and gold tables, and whatever else the
 * migrations create or a role keeps there, e.g. a mock source that stores its world in Postgres),
 * its own MongoDB collection, free ports. Nothing of the shared `npm start`
 * pipeline is read or written, and clean-up removes it all.
 */
export interface RunNames {
  run: string;
  topics: {
    rawWorkspaces: string;
    rawJobs: string;
    /** the pollers' dead letters (dlq.source.*) */
    dlqWorkspaces: string;
    dlqJobs: string;
    /** bronze's dead letters (dlq.<raw topic>) */
    bronzeDlqWorkspaces: string;
    bronzeDlqJobs: string;
    gold: string;
    goldDlq: string;
    pollerState: string;
    processorState: string;
    metrics: string;
  };
  groups: {
    bronzeWorkspaces: string;
    bronzeJobs: string;
    processor: string;
    goldPostgres: string;
    goldMongo: string;
  };
  /** a group of the benchmark's own readers (ceilings, the gold check) */
  benchGroup: (what: string) => string;
  database: string;
  mongoDatabase: string;
  collection: string;
  scratchCollection: string;
}

const SPECS: Record<keyof RunNames['topics'], TopicKey> = {
  rawWorkspaces: 'rawWorkspaces',
  rawJobs: 'rawJobs',
  dlqWorkspaces: 'sourceDlqWorkspaces',
  dlqJobs: 'sourceDlqJobs',
  bronzeDlqWorkspaces: 'rawDlqWorkspaces',
  bronzeDlqJobs: 'rawDlqJobs',
  gold: 'gold',
  goldDlq: 'goldDlq',
  pollerState: 'pollerState',
  processorState: 'processorState',
  metrics: 'metrics',
};

/** The names of a new run, or of an earlier one (`run`, e.g. bench-1a2b3c4d) to clean up after. */
export function runNames(env: NodeJS.ProcessEnv, run = `bench-${randomUUID().slice(0, 8)}`): RunNames {
  if (!/^bench-[0-9a-f]{8}$/.test(run))
    throw new Error(`${JSON.stringify(run)} is not a run id like bench-1a2b3c4d`);
  const id = run.replace('-', '_');
  // <declared name>.<run>: dlq.<raw> and dlq.<gold> stay the dead-letter topics the consumers derive (dlqTopicOf)
  const topics = Object.fromEntries(
    Object.entries(SPECS).map(([k, key]) => [k, `${TOPIC_DECLARATIONS[key].name}.${run}`]),
  );
  return {
    run,
    topics: topics as RunNames['topics'],
    groups: {
      bronzeWorkspaces: `${run}.bronze.workspaces`,
      bronzeJobs: `${run}.bronze.enrichment-jobs`,
      processor: `${run}.processor`,
      goldPostgres: `${run}.gold.postgres`,
      goldMongo: `${run}.gold.mongo`,
    },
    benchGroup: (what) => `${run}.bench.${what}`,
    database: id,
    mongoDatabase: readTopology(env).gold.mongo.database,
    collection: `${id}_gold`,
    scratchCollection: `${id}_ceiling`,
  };
}

/** A port nobody listens on right now (for the roles whose URL another role must know). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The database URL of the run: the environment's server, the run's database. */
export function databaseUrl(infra: InfraOptions, database: string): string {
  const url = new URL(infra.postgres.url);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The roles' environment: the caller's, with the run's names forced over it, and the mock source
 * started paused (the benchmark drives it: it seeds before the pollers start, or resumes it for a
 * sustained run).
 */
export function runEnv(
  base: NodeJS.ProcessEnv,
  n: RunNames,
  opts: {
    postgresUrl: string;
    sourcePort: number;
    adminToken: string;
    source: Record<string, string>;
    gateway: boolean;
  },
): NodeJS.ProcessEnv {
  const t = n.topics;
  return {
    ...base,
    TRIBUTARY_POSTGRES_URL: opts.postgresUrl,
    TRIBUTARY_MOCK_SOURCE_HOST: '127.0.0.1',
    TRIBUTARY_MOCK_SOURCE_PORT: String(opts.sourcePort),
    TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: opts.adminToken,
    // a random seed: different ids every run, so nothing can collide with an earlier one
    TRIBUTARY_MOCK_SOURCE_SEED: String(Math.floor(Math.random() * 2 ** 31)),
    TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
    // the source stands for a real API's data, not for its quota: the benchmark measures the pipeline
    TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: '1000000',
    TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: '1000000',
    ...opts.source,
    TRIBUTARY_SOURCE_URL: `http://127.0.0.1:${opts.sourcePort}`,
    TRIBUTARY_RAW_WORKSPACES_TOPIC: t.rawWorkspaces,
    TRIBUTARY_RAW_JOBS_TOPIC: t.rawJobs,
    TRIBUTARY_DLQ_WORKSPACES_TOPIC: t.dlqWorkspaces,
    TRIBUTARY_DLQ_JOBS_TOPIC: t.dlqJobs,
    TRIBUTARY_POLLER_STATE_TOPIC: t.pollerState,
    TRIBUTARY_METRICS_TOPIC: t.metrics,
    TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX: `${n.run}.poller`,
    TRIBUTARY_BRONZE_WORKSPACES_GROUP: n.groups.bronzeWorkspaces,
    TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: n.groups.bronzeJobs,
    TRIBUTARY_PROCESSOR_GROUP: n.groups.processor,
    TRIBUTARY_GOLD_TOPIC: t.gold,
    TRIBUTARY_GOLD_DLQ_TOPIC: t.goldDlq,
    TRIBUTARY_PROCESSOR_STATE_TOPIC: t.processorState,
    TRIBUTARY_GOLD_POSTGRES_GROUP: n.groups.goldPostgres,
    TRIBUTARY_GOLD_MONGO_GROUP: n.groups.goldMongo,
    TRIBUTARY_GOLD_MONGO_DATABASE: n.mongoDatabase,
    TRIBUTARY_GOLD_MONGO_COLLECTION: n.collection,
    ...(opts.gateway
      ? {
          TRIBUTARY_GATEWAY_HOST: '127.0.0.1',
          TRIBUTARY_GATEWAY_PORT: '0',
          TRIBUTARY_GATEWAY_LAG_GROUPS: Object.values(n.groups).join(','),
        }
      : {}),
  };
}

/**
 * The local mongo-java-server answers slowly while it is busy (a sink's backlog, other users of the
 * shared server): the benchmark's own clients wait for it rather than fail the measurement.
 */
export const MONGO_PATIENCE = { serverSelectionTimeoutMS: 120_000, connectTimeoutMS: 120_000 };

export const randomToken = () => randomBytes(24).toString('hex');

/** Creates the run's topics with the configs of contracts/topics.ts, and waits for their leaders. */
export async function createRunTopics(admin: Admin, n: RunNames, partitions: number): Promise<void> {
  const specs = Object.entries(SPECS).map(([k, key]) => ({
    ...TOPIC_DECLARATIONS[key],
    name: n.topics[k as keyof RunNames['topics']],
  }));
  await admin.createTopics({ topics: topicConfigs(partitions, specs), waitForLeaders: false });
  // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION while a loaded broker propagates them
  await waitFor(
    async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: Object.values(n.topics) });
      return topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    },
    { timeoutMs: 60_000, what: 'leaders for the run topics' },
  );
}

/** A database of the run's own, with the pipeline's migrations applied. */
export async function createRunDatabase(infra: InfraOptions, database: string): Promise<string> {
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 1 });
  try {
    await pool.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await pool.end();
  }
  const url = databaseUrl(infra, database);
  await migrate(url, () => {});
  return url;
}

/** Removes what the run created; each step is tried, and a failed one is reported, not thrown. */
export async function cleanUpRun(deps: {
  infra: InfraOptions;
  admin: Admin;
  n: RunNames;
  log: (line: string) => void;
}): Promise<void> {
  const { infra, admin, n, log } = deps;
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['topics', () => deleteTopics(admin, n)],
    ['consumer groups', () => deleteGroups(admin, n)],
    ['schema subjects', () => deleteSubjects(infra, n.run)],
    ['database', () => dropDatabase(infra, n.database)],
    ['collections', () => dropCollections(infra, n)],
  ];
  for (const [what, step] of steps) {
    const started = performance.now();
    await step().then(
      () => {
        const ms = performance.now() - started;
        if (ms > 5000) log(`clean-up of ${what} took ${Math.round(ms / 1000)} s`);
      },
      (err: Error) => log(`clean-up of ${what} failed: ${err.message}`),
    );
  }
}

async function deleteTopics(admin: Admin, n: RunNames): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const mine = [...existing].filter((t) => t.endsWith(`.${n.run}`));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine });
}

/** Right after a consumer leaves, the coordinator may still see its group as non-empty: retry. */
async function deleteGroups(admin: Admin, n: RunNames): Promise<void> {
  const { groups } = await admin.listGroups();
  const mine = groups.map((g) => g.groupId).filter((g) => g.startsWith(`${n.run}.`));
  if (mine.length === 0) return;
  await waitFor(
    () =>
      admin.deleteGroups(mine).then(
        () => true,
        (err: { groups?: Array<{ groupId: string; error?: { type?: string } }> }) => {
          const failed = (err.groups ?? []).filter((g) => g.error && g.error.type !== 'GROUP_ID_NOT_FOUND');
          if (failed.length === 0 && err.groups) return true;
          throw new Error(failed.map((g) => `${g.groupId}: ${g.error?.type}`).join(', ') || String(err));
        },
      ),
    { timeoutMs: 60_000, intervalMs: 1000, what: `the run's consumer groups to be deleted` },
  );
}

/** The registry client has no delete or list: the Confluent REST API's soft then permanent delete. */
async function deleteSubjects(infra: InfraOptions, run: string): Promise<void> {
  const r = infra.registry;
  const headers: Record<string, string> =
    r.username !== undefined
      ? { authorization: `Basic ${Buffer.from(`${r.username}:${r.password ?? ''}`).toString('base64')}` }
      : {};
  const res = await fetch(`${r.url}/subjects`, { headers });
  if (!res.ok) throw new Error(`GET /subjects: HTTP ${res.status}`);
  const subjects = ((await res.json()) as string[]).filter((s) => s.includes(run));
  for (const subject of subjects) {
    const url = `${r.url}/subjects/${encodeURIComponent(subject)}`;
    for (const suffix of ['', '?permanent=true']) {
      const del = await fetch(url + suffix, { method: 'DELETE', headers });
      if (!del.ok && del.status !== 404) throw new Error(`DELETE ${subject}${suffix}: HTTP ${del.status}`);
    }
  }
}

async function dropDatabase(infra: InfraOptions, database: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 1 });
  try {
    await pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  } finally {
    await pool.end();
  }
}

async function dropCollections(infra: InfraOptions, n: RunNames): Promise<void> {
  const mongo = new MongoClient(infra.mongo.url, MONGO_PATIENCE);
  try {
    await mongo.connect();
    const db = mongo.db(n.mongoDatabase);
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    for (const c of [n.collection, n.scratchCollection]) if (existing.has(c)) await db.collection(c).drop();
  } finally {
    await mongo.close();
  }
}
