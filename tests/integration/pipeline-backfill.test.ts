import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, createTopics, dropTopics } from '../support/kafka.ts';
import { type GoldContent, goldFromMongo, goldFromPostgres, joinFromSource } from '../support/pipeline.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  type PollerTopics,
  pollerEnv,
  startTestSource,
  type TestSource,
} from '../support/poller-harness.ts';

/**
 * The load issue's correctness test (timing is measured in bench/pipeline.ts, never here): a
 * backfill of a 20,000-workspace world whose initial population (20,000+ versions) shares one
 * updated_at, with the source changing ~1,000 times a second at the same time, through every role
 * in its own process. After the source pauses and the pipeline drains: bronze holds every version
 * once, and gold in Postgres = MongoDB = the gold topic = the join computed from the source API.
 */
const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('backfill'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();

const ENTRIES = {
  pollers: 'producers/process.ts',
  bronze: 'consumers/bronze/process.ts',
  processor: 'consumers/processor/process.ts',
  gold: 'consumers/gold-sinks/process.ts',
} as const;

const sorted = (o: object | undefined) =>
  o ? Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))) : o;
const differing = (a: Map<string, GoldContent>, b: Map<string, GoldContent>) =>
  [...new Set([...a.keys(), ...b.keys()])].filter(
    (k) => JSON.stringify(sorted(a.get(k))) !== JSON.stringify(sorted(b.get(k))),
  ).length;

describe('pipeline under a backfill and sustained changes', () => {
  let topics: PollerTopics;
  let source: TestSource;
  const extra = { gold: '', goldDlq: '', state: '' };
  const procs = new Map<string, RoleProcess>();
  const collection = uniqueName('backfill_gold').replace('-', '_');
  let pool: pg.Pool;
  let mongo: MongoClient;

  beforeAll(async () => {
    await admin.connect();
    topics = await createPollerTopics(admin, 3);
    extra.gold = `gold.${topics.prefix}`;
    extra.goldDlq = `dlq.gold.${topics.prefix}`;
    extra.state = `state.${topics.prefix}`;
    await createTopics(admin, [
      { topic: extra.gold, compact: true },
      { topic: extra.goldDlq, partitions: 1 },
      { topic: extra.state, compact: true },
    ]);
    source = await startTestSource({
      // 20,000 workspaces (and their first jobs) written at one instant; few jobs, so the gold
      // stores stay small: the local MongoDB-wire server is a test double that slows with size
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '20000',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '21000',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '3000',
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '100',
    });
    pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
    mongo = new MongoClient(infra.mongo.url);
    await mongo.connect();
  });

  afterAll(async () => {
    for (const p of procs.values()) await p.kill9();
    await source?.close();
    await mongo
      ?.db('tributary')
      .collection(collection)
      .drop()
      .catch(() => {}); // absent when the sink never wrote: nothing to clean
    await mongo?.close();
    await pool?.end();
    await deletePollerTopics(admin, topics);
    await dropTopics(
      admin,
      Object.values(extra).filter((t) => t !== ''),
    );
    await admin.disconnect();
  });

  it('holds every version once in bronze and the same gold everywhere as a join of the source', async () => {
    const group = uniqueName('backfill');
    const env: Record<string, string> = {
      ...inject('infraEnv'),
      ...pollerEnv(topics, source.url, {
        TRIBUTARY_POLL_PAGE_SIZE: '500',
        TRIBUTARY_POLL_INTERVAL_MS: '200',
      }),
      TRIBUTARY_GOLD_TOPIC: extra.gold,
      TRIBUTARY_GOLD_DLQ_TOPIC: extra.goldDlq,
      TRIBUTARY_PROCESSOR_STATE_TOPIC: extra.state,
      TRIBUTARY_PROCESSOR_GROUP: `${group}.processor`,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: `${group}.bronze.ws`,
      TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: `${group}.bronze.jobs`,
      TRIBUTARY_GOLD_POSTGRES_GROUP: `${group}.gold.pg`,
      TRIBUTARY_GOLD_MONGO_GROUP: `${group}.gold.mongo`,
      TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
    };
    for (const [name, entry] of Object.entries(ENTRIES)) procs.set(name, spawnRole(entry, env));
    const output = () => [...procs].map(([n, p]) => `--- ${n}\n${p.output().slice(-3000)}`).join('\n');
    const fail = (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${output()}`, { cause: err });
    };

    // The changes go on while the backfill is ingested; pause once the source holds 50,000 versions.
    const total = async () =>
      (await source.versions('workspaces')).valid.length +
      (await source.versions('enrichment-jobs')).valid.length;
    await waitFor(async () => (await total()) >= 50_000, {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'the source to hold 50,000 versions',
    }).catch(fail);
    source.handle.pause();

    const ws = await source.versions('workspaces');
    const jobs = await source.versions('enrichment-jobs');
    const sharedAt = new Map<number, number>();
    for (const v of [...ws.valid, ...jobs.valid]) {
      const at = Number(v.slice(v.lastIndexOf('@') + 1));
      sharedAt.set(at, (sharedAt.get(at) ?? 0) + 1);
    }
    expect(Math.max(...sharedAt.values())).toBeGreaterThanOrEqual(20_000);

    const bronzeCount = async (table: string, topic: string) =>
      Number(
        (await pool.query(`select count(*)::int as n from ${table} where topic = $1`, [topic])).rows[0].n,
      );
    await waitFor(
      async () =>
        (await bronzeCount('bronze.workspaces', topics.rawWorkspaces)) === ws.valid.length &&
        (await bronzeCount('bronze.enrichment_jobs', topics.rawJobs)) === jobs.valid.length,
      { timeoutMs: 300_000, intervalMs: 2000, what: 'bronze to hold every version' },
    ).catch(fail);
    const distinct = await pool.query(
      `select count(*)::int as n from (select distinct id, updated_at from bronze.enrichment_jobs where topic = $1) d`,
      [topics.rawJobs],
    );
    expect(distinct.rows[0].n).toBe(jobs.valid.length);

    const expected = await joinFromSource(source.url);
    const jobIds = [...expected.keys()];
    const converged = async (what: string, read: () => Promise<Map<string, GoldContent>>) => {
      await waitFor(async () => differing(await read(), expected) === 0, {
        timeoutMs: 300_000,
        intervalMs: 2000,
        what,
      }).catch(fail);
    };
    await converged('gold in Postgres to equal the join', () => goldFromPostgres(pool, jobIds));
    await converged('gold in MongoDB to equal the join', () => goldFromMongo(mongo, collection, jobIds));
    const onTopic = await consumeUntil(
      kafka,
      [extra.gold],
      (records) => {
        const latest = new Map<string, GoldContent>();
        for (const r of records) {
          if (!r.key || !r.value) continue;
          const { processed_at: _, ...rest } = r.value as EnrichmentJobGold;
          latest.set(r.key, rest);
        }
        return differing(latest, expected) === 0;
      },
      { registry, timeoutMs: 120_000 },
    ).catch(fail);
    const emitted = onTopic
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length);

    for (const [name, p] of procs) expect(await p.stop(), `${name} exits cleanly`).toBe(0);
    procs.clear();
  }, 600_000);
});
