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
import { dropMockWorlds, mockWorldSchema } from '../support/mock-world.ts';
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
 * Issue 12, "the second `npm start`": every role runs, everything stops (Ctrl-C), everything starts
 * again and runs on. The mock source keeps its world in Postgres, so the restarted source continues
 * the world the pollers' cursors point into: gold in Postgres = MongoDB = the topic's latest per key
 * = a join of the source API, and not a single dead letter. (A source that rebuilt its world from
 * the seed reuses the same ids with new histories: dead letters and gold rows the source lacks.)
 */
const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('restart'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();

const ENTRIES = {
  pollers: 'producers/process.ts',
  bronze: 'consumers/bronze/process.ts',
  processor: 'consumers/processor/process.ts',
  gold: 'consumers/gold-sinks/process.ts',
} as const;
type RoleName = keyof typeof ENTRIES;

const sorted = (o: object | undefined) =>
  o ? Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))) : o;
const equalMaps = (a: Map<string, GoldContent>, b: Map<string, GoldContent>) =>
  a.size === b.size &&
  [...a].every(([k, v]) => JSON.stringify(sorted(b.get(k))) === JSON.stringify(sorted(v)));

describe('pipeline restart', () => {
  let topics: PollerTopics;
  const extra = { gold: '', goldDlq: '', state: '' };
  const schema = mockWorldSchema();
  const collection = uniqueName('restart_gold').replace('-', '_');
  const procs = new Map<RoleName, RoleProcess>();
  let source: TestSource | undefined;
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
    pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
    mongo = new MongoClient(infra.mongo.url);
    await mongo.connect();
  });

  afterAll(async () => {
    for (const p of procs.values()) await p.kill9();
    await source?.close();
    await dropMockWorlds(infra.postgres.url, [schema]);
    await mongo
      ?.db('tributary')
      .collection(collection)
      .drop()
      .catch(() => {}); // never created when the test failed early
    await mongo?.close();
    await pool?.end();
    await deletePollerTopics(admin, topics);
    await admin.deleteTopics({ topics: Object.values(extra) }).catch(() => {}); // best effort clean-up
    await admin.disconnect();
  });

  it('stops every role, starts them again, and gold still equals the source with no dead letter', async () => {
    const group = uniqueName('restart');
    const startSource = () =>
      startTestSource(
        {
          // one seed for both runs, as `npm start` twice with the same settings
          TRIBUTARY_MOCK_SOURCE_SEED: '4242',
          TRIBUTARY_MOCK_SOURCE_SCHEMA: schema,
          TRIBUTARY_MOCK_SOURCE_TICK_MS: '200',
          TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '40',
        },
        { postgresUrl: infra.postgres.url },
      );
    const roleEnv = (sourceUrl: string): Record<string, string> => ({
      ...inject('infraEnv'),
      ...pollerEnv(topics, sourceUrl),
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
    });
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
    const startRoles = (sourceUrl: string) => {
      for (const name of Object.keys(ENTRIES) as RoleName[]) {
        procs.set(name, spawnRole(ENTRIES[name], roleEnv(sourceUrl)));
      }
    };
    const stopAll = async () => {
      for (const [name, p] of procs) expect(await p.stop(), `${name} exits cleanly\n${output()}`).toBe(0);
      procs.clear();
      await source!.close();
      source = undefined;
    };

    // the first `npm start`, then Ctrl-C
    source = await startSource();
    startRoles(source.url);
    await progress(15);
    await stopAll();

    // the second: the same world continues, the pollers resume from their cursors
    source = await startSource();
    startRoles(source.url);
    await progress(15);
    await source.handle.pause();

    const expected = await joinFromSource(source.url);
    const jobIds = [...expected.keys()];
    expect(jobIds.length).toBeGreaterThan(10);
    const converged = async (what: string, read: () => Promise<Map<string, GoldContent>>) => {
      await waitFor(async () => equalMaps(await read(), expected), { timeoutMs: 180_000, what }).catch(
        (err) => {
          throw new Error(`${(err as Error).message}\n${output()}`);
        },
      );
      expect(await read()).toEqual(expected);
    };
    await converged('gold in Postgres to equal the join', () => goldFromPostgres(pool, jobIds));
    await converged('gold in MongoDB to equal the join', () => goldFromMongo(mongo, collection, jobIds));
    await consumeUntil(
      kafka,
      [extra.gold],
      (records) => {
        const latest = new Map<string, GoldContent>();
        for (const r of records) {
          if (r.key && r.value) {
            const { processed_at: _, ...content } = r.value as EnrichmentJobGold;
            latest.set(r.key, content);
          }
        }
        return equalMaps(latest, expected);
      },
      { registry, timeoutMs: 120_000 },
    );
    // nothing at all for any dead-letter topic of the run: offsets would count aborted writes too
    for (const dlq of [
      topics.dlqWorkspaces,
      topics.dlqJobs,
      topics.bronzeDlqWorkspaces,
      topics.bronzeDlqJobs,
      extra.goldDlq,
    ]) {
      const written = (await admin.fetchTopicOffsets(dlq)).reduce((n, p) => n + Number(p.high), 0);
      expect(written, `${dlq} is empty`).toBe(0);
    }
    // bronze: every version of the source, once, across both runs
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
    await stopAll();
  });
});
