import type { Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from './child.ts';
import { testInfra, testLogger, uniqueName } from './infra.ts';
import { type ConsumedRecord, consumeUntil, createTopics, dropTopics } from './kafka.ts';
import { type GoldContent, goldFromMongo, goldFromPostgres } from './pipeline.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  type PollerTopics,
  pollerEnv,
  startTestSource,
  type TestSource,
} from './poller-harness.ts';

/**
 * What the whole-pipeline tests share (end to end, backfill, restart, lineage, chaos, cluster): one
 * run's random topics and groups, the environment that points every role at them, the role
 * processes with their output for a failure message, and the comparisons of gold.
 */

/** Every role of the pipeline as a process entry, in start order. */
export const ROLE_ENTRIES = {
  pollers: 'producers/process.ts',
  bronze: 'consumers/bronze/process.ts',
  processor: 'consumers/processor/process.ts',
  gold: 'consumers/gold-sinks/process.ts',
} as const;
export type PipelineRole = keyof typeof ROLE_ENTRIES;

/** The pollers' topics (poller-harness.ts) plus the gold topic, its dead letters and the join state. */
export interface PipelineTopics extends PollerTopics {
  gold: string;
  goldDlq: string;
  processorState: string;
}

export async function createPipelineTopics(admin: Admin, partitions: number): Promise<PipelineTopics> {
  const poller = await createPollerTopics(admin, partitions);
  const t: PipelineTopics = {
    ...poller,
    gold: `gold.${poller.prefix}`,
    goldDlq: `dlq.gold.${poller.prefix}`,
    processorState: `state.${poller.prefix}`,
  };
  await createTopics(admin, [
    { topic: t.gold, partitions, compact: true },
    { topic: t.goldDlq, partitions: 1 },
    { topic: t.processorState, partitions, compact: true },
  ]);
  return t;
}

export async function deletePipelineTopics(admin: Admin, t: PipelineTopics | undefined): Promise<void> {
  if (!t) return;
  await deletePollerTopics(admin, t);
  await dropTopics(admin, [t.gold, t.goldDlq, t.processorState]);
}

/** The consumer groups of one run: unique, so that no earlier run's offsets are reused. */
export function pipelineGroups(run: string) {
  return {
    bronzeWs: `${run}.bronze.ws`,
    bronzeJobs: `${run}.bronze.jobs`,
    processor: `${run}.processor`,
    goldPg: `${run}.gold.pg`,
    goldMongo: `${run}.gold.mongo`,
  };
}
export type PipelineGroups = ReturnType<typeof pipelineGroups>;

/**
 * The environment of every role of one run (without the servers' part: add inject('infraEnv')).
 * Session timeouts are the brokers' minimum, so that a killed role's partitions move on quickly.
 */
export function pipelineEnv(
  t: PipelineTopics,
  sourceUrl: string,
  run: { groups: PipelineGroups; collection: string; pollers?: Record<string, string> },
): Record<string, string> {
  const { groups } = run;
  return {
    ...pollerEnv(t, sourceUrl, run.pollers),
    TRIBUTARY_GOLD_TOPIC: t.gold,
    TRIBUTARY_GOLD_DLQ_TOPIC: t.goldDlq,
    TRIBUTARY_PROCESSOR_STATE_TOPIC: t.processorState,
    TRIBUTARY_PROCESSOR_GROUP: groups.processor,
    TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
    TRIBUTARY_BRONZE_WORKSPACES_GROUP: groups.bronzeWs,
    TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: groups.bronzeJobs,
    TRIBUTARY_GOLD_POSTGRES_GROUP: groups.goldPg,
    TRIBUTARY_GOLD_MONGO_GROUP: groups.goldMongo,
    TRIBUTARY_GOLD_MONGO_COLLECTION: run.collection,
    TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
  };
}

/** A MongoDB collection name unique to a test (no '-': a collection name may not hold one here). */
export const uniqueCollection = (what: string) => uniqueName(what).replace(/-/g, '_');

/** The role processes of a run by name, and their last output lines for a failure message. */
export function createRoleProcs<Name extends string = PipelineRole>() {
  const procs = new Map<Name, RoleProcess>();
  const output = () => [...procs].map(([n, p]) => `--- ${n}\n${p.output().slice(-3000)}`).join('\n');
  return {
    procs,
    output,
    start(name: Name, entry: string, env: Record<string, string>) {
      procs.set(name, spawnRole(entry, env));
    },
    /** Rethrows a failed wait with every role's output, which is where its cause is. */
    fail(err: unknown): never {
      throw new Error(`${(err as Error).message}\n${output()}`, { cause: err });
    },
    async killAll() {
      for (const p of procs.values()) await p.kill9();
      procs.clear();
    },
    /**
     * Stops every role (SIGTERM) and returns those that did not exit with 0 (a clean shutdown), with
     * every role's output: a test expects `[]`.
     */
    async stopAll(): Promise<string[]> {
      const unclean: string[] = [];
      for (const [name, p] of procs) {
        const code = await p.stop();
        if (code !== 0) unclean.push(`${name} exited with ${code}`);
      }
      if (unclean.length > 0) unclean.push(output());
      procs.clear();
      return unclean;
    },
  };
}

/** How many records a topic has had (the sum of its partitions' end offsets). */
export async function topicEnd(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

/** Rows of one raw topic in a bronze table. */
export async function bronzeCount(pool: pg.Pool, table: string, topic: string): Promise<number> {
  const { rows } = await pool.query(`select count(*)::int as n from ${table} where topic = $1`, [topic]);
  return Number(rows[0].n);
}

/** The latest gold content per job on the gold topic, and the versions emitted (to find duplicates). */
export function goldOnTopic(records: readonly ConsumedRecord[]) {
  const latest = new Map<string, GoldContent>();
  const emitted: string[] = [];
  for (const r of records) {
    if (!r.key || !r.value) continue;
    const { processed_at: _, ...content } = r.value as EnrichmentJobGold;
    latest.set(r.key, content);
    emitted.push(`${content.job_id}/${content.job_updated_at}/${content.workspace_updated_at}`);
  }
  return { latest, emitted };
}

const sorted = (o: object | undefined) =>
  o ? Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))) : o;

/** The job ids whose gold differs between two maps (field order does not matter). */
export function differingJobs(a: Map<string, GoldContent>, b: Map<string, GoldContent>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter(
    (k) => JSON.stringify(sorted(a.get(k))) !== JSON.stringify(sorted(b.get(k))),
  );
}

/** Drops a test's gold collection; absent when the sink never wrote to it, which is fine. */
export async function dropCollection(mongo: MongoClient | undefined, name: string): Promise<void> {
  const exists = await mongo?.db('tributary').listCollections({ name }).hasNext();
  if (exists) await mongo!.db('tributary').collection(name).drop();
}

/**
 * One whole-pipeline test's clients, topics, stores and roles, set up before its tests (with a mock
 * source started with `sourceEnv`, unless it is `null`: the test starts its own) and cleaned up after.
 * Call at the top of a describe; the fields are filled once beforeAll has run.
 */
export function usePipelineRun(name: string, sourceEnv: Record<string, string> | null) {
  const infra = testInfra();
  const kafka = createKafka(infra.kafka, uniqueName(name), testLogger);
  const run = {
    infra,
    kafka,
    admin: kafka.admin(),
    registry: createSchemaRegistry(infra.registry),
    roles: createRoleProcs(),
    collection: uniqueCollection(`${name}_gold`),
    topics: undefined as unknown as PipelineTopics,
    /** the source started before the tests; a test that starts its own assigns it here */
    source: undefined as TestSource | undefined,
    pool: undefined as unknown as pg.Pool,
    mongo: undefined as unknown as MongoClient,
    /** every role's environment for this run, pointed at `sourceUrl` */
    env(sourceUrl: string, pollers?: Record<string, string>): Record<string, string> {
      run.groups ??= pipelineGroups(uniqueName(name));
      const groups = run.groups;
      return {
        ...inject('infraEnv'),
        ...pipelineEnv(run.topics, sourceUrl, { groups, collection: run.collection, pollers }),
      };
    },
    groups: undefined as PipelineGroups | undefined,
    /** starts every role (ROLE_ENTRIES) with this environment */
    startAll(env: Record<string, string>) {
      for (const role of Object.keys(ROLE_ENTRIES) as PipelineRole[])
        run.roles.start(role, ROLE_ENTRIES[role], env);
    },
  };
  beforeAll(async () => {
    await run.admin.connect();
    run.topics = await createPipelineTopics(run.admin, 3);
    if (sourceEnv) run.source = await startTestSource(sourceEnv);
    run.pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
    run.mongo = new MongoClient(infra.mongo.url);
    await run.mongo.connect();
  });
  afterAll(async () => {
    await run.roles.killAll();
    await run.source?.close();
    await dropCollection(run.mongo, run.collection);
    await run.mongo?.close();
    await run.pool?.end();
    await deletePipelineTopics(run.admin, run.topics);
    await run.admin.disconnect();
  });
  return run;
}
export type PipelineRun = ReturnType<typeof usePipelineRun>;

/**
 * Waits until gold in Postgres, in MongoDB and the latest per key on the gold topic all equal
 * `expected` (the join computed from the source), and checks that no gold version was emitted twice.
 */
export async function expectGoldEverywhere(
  run: PipelineRun,
  expected: Map<string, GoldContent>,
  wait: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const jobIds = [...expected.keys()];
  const converged = async (what: string, read: () => Promise<Map<string, GoldContent>>) => {
    await waitFor(async () => differingJobs(await read(), expected).length === 0, { ...wait, what }).catch(
      run.roles.fail,
    );
  };
  await converged('gold in Postgres to equal the join', () => goldFromPostgres(run.pool, jobIds));
  await converged('gold in MongoDB to equal the join', () =>
    goldFromMongo(run.mongo, run.collection, jobIds),
  );
  const onTopic = await consumeUntil(
    run.kafka,
    [run.topics.gold],
    (records) => differingJobs(goldOnTopic(records).latest, expected).length === 0,
    { registry: run.registry, timeoutMs: 120_000 },
  ).catch(run.roles.fail);
  const { emitted } = goldOnTopic(onTopic);
  expect(new Set(emitted).size, 'no gold version emitted twice').toBe(emitted.length);
}

/** Waits until bronze holds every valid version the source served, once. */
export async function expectBronzeComplete(
  run: PipelineRun,
  source: TestSource,
  wait: { timeoutMs: number; intervalMs?: number },
): Promise<{ workspaces: number; jobs: number }> {
  const want = {
    workspaces: (await source.versions('workspaces')).valid.length,
    jobs: (await source.versions('enrichment-jobs')).valid.length,
  };
  await waitFor(
    async () =>
      (await bronzeCount(run.pool, 'bronze.workspaces', run.topics.rawWorkspaces)) === want.workspaces &&
      (await bronzeCount(run.pool, 'bronze.enrichment_jobs', run.topics.rawJobs)) === want.jobs,
    { ...wait, what: 'bronze to hold every version' },
  ).catch(run.roles.fail);
  return want;
}

/** Waits until the gold topic has grown by `more` records. */
export async function goldGrows(run: PipelineRun, more: number): Promise<void> {
  const target = (await topicEnd(run.admin, run.topics.gold)) + more;
  await waitFor(async () => (await topicEnd(run.admin, run.topics.gold)) >= target, {
    timeoutMs: 120_000,
    what: `gold to grow by ${more}`,
  }).catch(run.roles.fail);
}
