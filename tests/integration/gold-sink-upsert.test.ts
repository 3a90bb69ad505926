import { randomUUID } from 'node:crypto';
import { type Admin, Partitioners, type Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { readRanges, wholeTopics } from '../../common/topic-reader.ts';
import { waitFor } from '../../common/wait-for.ts';
import { createMongoGoldSink, type GoldDocument } from '../../consumers/gold-sinks/mongo-sink.ts';
import { createPostgresGoldSink } from '../../consumers/gold-sinks/postgres-sink.ts';
import { goldMongoRole, goldPostgresRole } from '../../consumers/gold-sinks/role.ts';
import type { RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import {
  avroEncoder,
  createTopics,
  FAST_GROUP_ENV,
  goldRecord,
  groupCaughtUp,
  metricsTopicOf,
  silentLogger,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { dropTopics } from '../support/kafka.ts';

const infra = testInfra();
const T = Date.UTC(2026, 1, 1);

describe('gold sinks (Postgres and MongoDB)', () => {
  const kafka = createKafka(infra.kafka, uniqueName('gold-test'), testLogger);
  const admin: Admin = kafka.admin();
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const mongo = new MongoClient(infra.mongo.url);
  const topic = uniqueName('gold.enrichment-jobs');
  const collection = uniqueName('enrichment_jobs');
  const env = {
    ...FAST_GROUP_ENV,
    TRIBUTARY_METRICS_TOPIC: metricsTopicOf(topic),
    TRIBUTARY_GOLD_TOPIC: topic,
    TRIBUTARY_GOLD_POSTGRES_GROUP: uniqueName('gold-pg'),
    TRIBUTARY_GOLD_MONGO_GROUP: uniqueName('gold-mongo'),
    TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
    TRIBUTARY_GOLD_BATCH_SIZE: '7',
  };
  const jobIds = Array.from({ length: 4 }, () => randomUUID());
  const registry = createSchemaRegistry(infra.registry);
  let encode: (v: EnrichmentJobGold) => Promise<Buffer>;

  beforeAll(async () => {
    await Promise.all([admin.connect(), producer.connect(), mongo.connect()]);
    await createTopics(admin, [topic, `dlq.${topic}`, metricsTopicOf(topic)]);
    encode = (await avroEncoder(registry, topic, 'enrichment-job-gold')).encode;
  });
  afterAll(async () => {
    await producer.disconnect();
    await dropTopics(admin, [topic, `dlq.${topic}`, metricsTopicOf(topic)]);
    await admin.disconnect();
    await pool.query('DELETE FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])', [jobIds]);
    await pool.end();
    await mongo
      .db('tributary')
      .collection(collection)
      .drop()
      .catch(() => {});
    await mongo.close();
  });

  async function publish(records: EnrichmentJobGold[]) {
    const messages = await Promise.all(records.map(async (r) => ({ key: r.job_id, value: await encode(r) })));
    await producer.send({ topic, acks: -1, messages });
  }

  async function runUntilCaughtUp() {
    const roles: RunningRole[] = [];
    try {
      roles.push(await startRoleFromEnv(goldPostgresRole, { infra, env, logger: silentLogger }));
      roles.push(await startRoleFromEnv(goldMongoRole, { infra, env, logger: silentLogger }));
      await waitFor(
        async () =>
          (await groupCaughtUp(admin, env.TRIBUTARY_GOLD_POSTGRES_GROUP, topic)) &&
          (await groupCaughtUp(admin, env.TRIBUTARY_GOLD_MONGO_GROUP, topic)),
        { timeoutMs: 90_000, what: 'both sinks to commit the end of the gold topic' },
      );
    } finally {
      for (const r of roles) await r.close();
    }
  }

  const pgRows = async () =>
    (
      await pool.query('SELECT * FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id', [
        jobIds,
      ])
    ).rows;
  const mongoDocs = () =>
    mongo
      .db('tributary')
      .collection<{ _id: string }>(collection)
      .find({ _id: { $in: jobIds } })
      .sort({ _id: 1 })
      .toArray();

  // Per job, in topic order: the 'completed' record (T+3, T+2) is the LAST one published, so it is
  // the topic's latest; the others carry greater and smaller timestamps, which decide nothing.
  const earlier = (id: string) => [
    goldRecord(id, T + 1, null),
    goldRecord(id, T + 9, T + 9),
    goldRecord(id, T + 3, null),
    goldRecord(id, T + 2, T + 9),
  ];
  const latest = (id: string) =>
    goldRecord(id, T + 3, T + 2, {
      status: 'completed',
      is_terminal: true,
      finished_at: T + 3,
      duration_ms: 3,
    });

  /** The latest record per key on the test's gold topic, with where it is. */
  async function topicLatest(): Promise<
    Map<string, { partition: number; offset: string; record: EnrichmentJobGold }>
  > {
    const out = new Map<string, { partition: number; offset: string; record: EnrichmentJobGold }>();
    await readRanges({ kafka, admin }, await wholeTopics(admin, [topic]), async ({ partition, message }) => {
      if (message.key === null || message.value === null) return undefined;
      const record = (await registry.decode(message.value)) as EnrichmentJobGold;
      out.set(message.key.toString(), { partition, offset: message.offset, record });
      return undefined;
    });
    return out;
  }

  /** Both stores hold, for each id, exactly the topic's latest record (its position and its versions). */
  async function expectStoresEqualTopic(ids: string[]) {
    const onTopic = await topicLatest();
    const want = ids.map((id) => {
      const t = onTopic.get(id)!;
      return {
        id,
        partition: t.partition,
        offset: t.offset,
        status: t.record.status,
        job_updated_at: new Date(t.record.job_updated_at),
        workspace_updated_at:
          t.record.workspace_updated_at === null ? null : new Date(t.record.workspace_updated_at),
      };
    });
    const rows = (
      await pool.query('SELECT * FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])', [ids])
    ).rows;
    const docs = await mongo
      .db('tributary')
      .collection<{ _id: string } & Record<string, unknown>>(collection)
      .find({ _id: { $in: ids } })
      .toArray();
    const sorted = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(
      sorted(
        rows.map((r) => ({
          id: r.job_id,
          partition: r.source_partition,
          offset: r.source_offset,
          status: r.status,
          job_updated_at: r.job_updated_at,
          workspace_updated_at: r.workspace_updated_at,
        })),
      ),
    ).toEqual(sorted(want));
    expect(
      sorted(
        docs.map((d) => ({
          id: d._id,
          partition: d.source_partition,
          offset: String(d.source_offset),
          status: d.status,
          job_updated_at: d.job_updated_at,
          workspace_updated_at: d.workspace_updated_at,
        })),
      ),
    ).toEqual(sorted(want));
  }

  it('keeps the latest record of each job on the topic whatever its timestamps, and ignores replays', async () => {
    // Before the latest: for half the jobs in one order, for the others reversed.
    await publish(
      jobIds.flatMap((id, i) => [...(i % 2 === 0 ? earlier(id) : earlier(id).reverse()), latest(id)]),
    );
    await runUntilCaughtUp();

    const rows = await pgRows();
    expect(rows).toHaveLength(jobIds.length);
    for (const row of rows) {
      const want = latest(row.job_id);
      expect(row).toMatchObject({
        status: 'completed',
        is_terminal: true,
        workspace_name: want.workspace_name,
        workspace_plan: 'starter',
        workspace_resolved: true,
        duration_ms: '3', // bigint comes back as text from pg
        success_rate: want.success_rate,
      });
      expect(row.job_updated_at).toEqual(new Date(T + 3));
      expect(row.workspace_updated_at).toEqual(new Date(T + 2));
      expect(row.finished_at).toEqual(new Date(T + 3));
      expect(row.created_at).toBeInstanceOf(Date);
    }
    const docs = await mongoDocs();
    expect(docs).toHaveLength(jobIds.length);
    for (const doc of docs) {
      const want = latest(doc._id);
      expect(doc).toMatchObject({
        job_id: doc._id,
        status: 'completed',
        workspace_name: want.workspace_name,
        job_updated_at: new Date(T + 3),
        workspace_updated_at: new Date(T + 2),
        finished_at: new Date(T + 3),
        created_at: new Date(want.created_at),
        processed_at: new Date(want.processed_at),
      });
    }
    const indexes = (await mongo.db('tributary').collection(collection).indexes()).map((i) => i.name);
    expect(indexes).toEqual(
      expect.arrayContaining([
        'status_1',
        'created_at_-1',
        'workspace_plan_1',
        'workspace_segment_1',
        'workspace_country_1',
        'workspace_id_1',
      ]),
    );

    await expectStoresEqualTopic(jobIds);

    // A later record with OLDER timestamps (a source whose versions went backward) wins: it is the
    // topic's latest. Both stores agree with the topic, not with the timestamps.
    await publish(jobIds.map((id) => goldRecord(id, T + 2, T + 50, { status: 'failed' })));
    await runUntilCaughtUp();
    await expectStoresEqualTopic(jobIds);
    const afterBackward = await pgRows();
    expect(afterBackward.map((r) => [r.status, r.job_updated_at])).toEqual(
      jobIds.map(() => ['failed', new Date(T + 2)]),
    );
    const backwardDocs = await mongoDocs();
    expect(backwardDocs.map((d) => (d as { status?: string }).status)).toEqual(jobIds.map(() => 'failed'));

    // A replay of the whole topic from the earliest offset changes nothing either.
    await admin.resetOffsets({ groupId: env.TRIBUTARY_GOLD_POSTGRES_GROUP, topic, earliest: true });
    await admin.resetOffsets({ groupId: env.TRIBUTARY_GOLD_MONGO_GROUP, topic, earliest: true });
    await runUntilCaughtUp();
    // … not even written_at.
    expect(await pgRows()).toEqual(afterBackward);
    expect(await mongoDocs()).toEqual(backwardDocs);

    // A newer version still wins (the guard is not stuck).
    await publish([goldRecord(jobIds[0]!, T + 4, null, { status: 'canceled' })]);
    await runUntilCaughtUp();
    expect((await pgRows()).find((r) => r.job_id === jobIds[0])?.status).toBe('canceled');
    expect((await mongoDocs()).find((d) => d._id === jobIds[0])).toMatchObject({
      status: 'canceled',
      workspace_updated_at: null,
    });
    await expectStoresEqualTopic(jobIds);
  });

  it('applies the rule in both stores, written directly (the later position on the topic wins)', async () => {
    const table = `public.${uniqueName('gold_sink').replace('-', '_')}`;
    await pool.query(`CREATE TABLE ${table} (LIKE gold.enrichment_jobs INCLUDING ALL)`);
    const coll = mongo.db('tributary').collection<GoldDocument>(uniqueName('gold_sink'));
    try {
      const pgSink = createPostgresGoldSink({ pool, table });
      const mongoSink = createMongoGoldSink({ collection: coll });
      await mongoSink.ensureIndexes();
      const id = randomUUID();
      const rec = (job: number, ws: number | null, offset: string) => ({
        value: goldRecord(id, T + job, ws === null ? null : T + ws),
        partition: 0,
        offset,
      });
      const stored = async () => {
        const row = (await pool.query(`SELECT source_offset FROM ${table} WHERE job_id = $1`, [id])).rows[0];
        const doc = await coll.findOne({ _id: id });
        return [row?.source_offset, String(doc?.source_offset)];
      };
      // [record, stored afterwards (its offset)]: each step compared with what is stored.
      const steps: Array<[ReturnType<typeof rec>, string]> = [
        [rec(5, null, '1'), '1'], // first record: inserted
        [rec(5, null, '1'), '1'], // the same record redelivered: no change
        [rec(5, 3, '3'), '3'], // later on the topic: replaces
        [rec(9, 9, '2'), '3'], // earlier on the topic, whatever its timestamps: ignored
        [rec(4, 9, '5'), '5'], // later on the topic with an older job version: replaces
        [rec(6, null, '10'), '10'], // offsets compare as numbers ('10' > '5')
      ];
      for (const [record, storedOffset] of steps) {
        const changed = storedOffset === record.offset && (await stored())[0] !== record.offset ? 1 : 0;
        expect(await pgSink.write([record])).toBe(changed);
        expect(await mongoSink.write([record])).toBe(changed);
        expect(await stored()).toEqual([storedOffset, storedOffset]);
      }
      // A store swapped in by rebuild-gold has unknown positions (-1): any record of the topic replaces it.
      await pool.query(`UPDATE ${table} SET source_offset = -1`);
      await coll.updateMany({}, { $set: { source_offset: -1 } });
      expect(await pgSink.write([rec(1, null, '0')])).toBe(1);
      expect(await mongoSink.write([rec(1, null, '0')])).toBe(1);
      expect(await stored()).toEqual(['0', '0']);
    } finally {
      await pool.query(`DROP TABLE ${table}`);
      await coll.drop().catch(() => {});
    }
  });
});
