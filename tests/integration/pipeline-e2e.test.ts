import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, createTopics } from '../support/kafka.ts';
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
 * The whole pipeline from the mock source, every role in its own process, with kill -9 of each
 * consumer role mid-run. After pausing the source and draining: gold in Postgres = gold in MongoDB =
 * the latest value per key on the gold topic = a join computed here from the source API, and bronze
 * holds every version once.
 */
const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('e2e'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();

const ENTRIES = {
  pollers: 'producers/process.ts',
  bronze: 'consumers/bronze/process.ts',
  processor: 'consumers/processor/process.ts',
  gold: 'consumers/gold-sinks/process.ts',
} as const;
type RoleName = keyof typeof ENTRIES;

const equalMaps = (a: Map<string, GoldContent>, b: Map<string, GoldContent>) =>
  a.size === b.size &&
  [...a].every(([k, v]) => JSON.stringify(sorted(b.get(k))) === JSON.stringify(sorted(v)));
const sorted = (o: object | undefined) =>
  o ? Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))) : o;

describe('pipeline end to end', () => {
  let topics: PollerTopics;
  let source: TestSource;
  const extra = { gold: '', goldDlq: '', state: '' };
  const procs = new Map<RoleName, RoleProcess>();
  const collection = uniqueName('e2e_gold').replace('-', '_');
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
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '250',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '40',
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
      .catch(() => {});
    await mongo?.close();
    await pool?.end();
    await deletePollerTopics(admin, topics);
    await admin.deleteTopics({ topics: Object.values(extra) }).catch(() => {});
    await admin.disconnect();
  });

  it('converges to the same gold in Postgres, MongoDB and the topic as a join of the source, through crashes', async () => {
    const group = uniqueName('e2e');
    const env: Record<string, string> = {
      ...inject('infraEnv'),
      ...pollerEnv(topics, source.url),
      TRIBUTARY_GOLD_TOPIC: extra.gold,
      TRIBUTARY_GOLD_DLQ_TOPIC: extra.goldDlq,
      TRIBUTARY_PROCESSOR_STATE_TOPIC: extra.state,
      TRIBUTARY_PROCESSOR_GROUP: `${group}.processor`,
      TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: `${group}.bronze.ws`,
      TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: `${group}.bronze.jobs`,
      TRIBUTARY_GOLD_POSTGRES_GROUP: `${group}.gold.pg`,
      TRIBUTARY_GOLD_MONGO_GROUP: `${group}.gold.mongo`,
      TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
      TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
    };
    const start = (name: RoleName) => procs.set(name, spawnRole(ENTRIES[name], env));
    const output = () => [...procs].map(([n, p]) => `--- ${n}\n${p.output().slice(-3000)}`).join('\n');
    const goldCount = async () =>
      (await admin.fetchTopicOffsets(extra.gold)).reduce((n, p) => n + Number(p.high), 0);
    const progress = async (more: number) => {
      const target = (await goldCount()) + more;
      await waitFor(async () => (await goldCount()) >= target, {
        timeoutMs: 120_000,
        what: `gold to grow by ${more}`,
      }).catch((err) => {
        throw new Error(`${(err as Error).message}\n${output()}`);
      });
    };

    for (const name of Object.keys(ENTRIES) as RoleName[]) start(name);
    // kill -9 each consumer role at a random point of progress, and start it again.
    for (const victim of ['bronze', 'processor', 'gold', 'processor', 'bronze', 'gold'] as const) {
      await progress(1 + Math.floor(Math.random() * 15));
      await procs.get(victim)!.kill9();
      start(victim);
    }
    await progress(5);
    source.handle.pause();

    const expected = await joinFromSource(source.url);
    const jobIds = [...expected.keys()];
    expect(jobIds.length).toBeGreaterThan(10);
    expect([...expected.values()].some((g) => g.workspace_resolved)).toBe(true);

    const converged = async (what: string, read: () => Promise<Map<string, GoldContent>>) => {
      await waitFor(async () => equalMaps(await read(), expected), { timeoutMs: 180_000, what }).catch(
        async (err) => {
          throw new Error(`${(err as Error).message}\n${output()}`);
        },
      );
      expect(await read()).toEqual(expected);
    };
    await converged('gold in Postgres to equal the join', () => goldFromPostgres(pool, jobIds));
    await converged('gold in MongoDB to equal the join', () => goldFromMongo(mongo, collection, jobIds));
    const onTopic = await consumeUntil(
      kafka,
      [extra.gold],
      (records) => {
        const latest = new Map<string, GoldContent>();
        for (const r of records)
          if (r.key && r.value) latest.set(r.key, stripProcessedAt(r.value as EnrichmentJobGold));
        return equalMaps(latest, expected);
      },
      { registry, timeoutMs: 120_000 },
    );
    const emitted = onTopic
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length);

    // Bronze: every version the source served, once.
    const versions = {
      ws: (await source.versions('workspaces')).valid.length,
      jobs: (await source.versions('enrichment-jobs')).valid.length,
    };
    const bronzeCount = async (table: string, topic: string) =>
      Number(
        (await pool.query(`select count(*)::int as n from ${table} where topic = $1`, [topic])).rows[0].n,
      );
    await waitFor(
      async () =>
        (await bronzeCount('bronze.workspaces', topics.rawWorkspaces)) === versions.ws &&
        (await bronzeCount('bronze.enrichment_jobs', topics.rawJobs)) === versions.jobs,
      { timeoutMs: 120_000, what: 'bronze to hold every version' },
    );

    for (const [name, p] of procs) expect(await p.stop(), `${name} exits cleanly`).toBe(0);
    procs.clear();
  });
});

function stripProcessedAt(g: EnrichmentJobGold): GoldContent {
  const { processed_at: _, ...rest } = g;
  return rest;
}
