import { randomUUID } from 'node:crypto';
import { type Admin, Partitioners, type Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRole } from '../../cli/roles.ts';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { createMongoGoldSink, type GoldDocument } from '../../consumers/gold-sinks/mongo-sink.ts';
import { createPostgresGoldSink } from '../../consumers/gold-sinks/postgres-sink.ts';
import { goldMongoRole, goldPostgresRole } from '../../consumers/gold-sinks/role.ts';
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
  let encode: (v: EnrichmentJobGold) => Promise<Buffer>;

  beforeAll(async () => {
    await Promise.all([admin.connect(), producer.connect(), mongo.connect()]);
    await createTopics(admin, [topic, `dlq.${topic}`, metricsTopicOf(topic)]);
    encode = (await avroEncoder(createSchemaRegistry(infra.registry), topic, 'enrichment-job-gold')).encode;
  });
  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, `dlq.${topic}`, metricsTopicOf(topic)] }).catch(() => {});
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
      roles.push(await goldPostgresRole.start({ infra, env, logger: silentLogger }));
      roles.push(await goldMongoRole.start({ infra, env, logger: silentLogger }));
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

  // Per job: versions whose newest is (job, ws) = (T+3, T+2); the others are older by the rule.
  const versions = (id: string) => [
    goldRecord(id, T + 1, null),
    goldRecord(id, T + 3, T + 2, {
      status: 'completed',
      is_terminal: true,
      finished_at: T + 3,
      duration_ms: 3,
    }),
    goldRecord(id, T + 3, null),
    goldRecord(id, T + 2, T + 9),
    goldRecord(id, T + 3, T + 1),
  ];
  const newest = (id: string) => versions(id)[1]!;

  it('keeps the newest version of each job whatever the order, and ignores older versions and replays', async () => {
    // Out of order: for half the jobs the newest comes first, for the others in the middle.
    await publish(jobIds.flatMap((id, i) => (i % 2 === 0 ? versions(id) : versions(id).reverse())));
    await runUntilCaughtUp();

    const rows = await pgRows();
    expect(rows).toHaveLength(jobIds.length);
    for (const row of rows) {
      const want = newest(row.job_id);
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
      const want = newest(doc._id);
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

    // An older version after the newest changes nothing, not even written_at.
    await publish(jobIds.map((id) => goldRecord(id, T + 2, T + 50, { status: 'failed' })));
    await runUntilCaughtUp();
    expect(await pgRows()).toEqual(rows);
    expect(await mongoDocs()).toEqual(docs);

    // A replay of the whole topic from the earliest offset changes nothing either.
    await admin.resetOffsets({ groupId: env.TRIBUTARY_GOLD_POSTGRES_GROUP, topic, earliest: true });
    await admin.resetOffsets({ groupId: env.TRIBUTARY_GOLD_MONGO_GROUP, topic, earliest: true });
    await runUntilCaughtUp();
    expect(await pgRows()).toEqual(rows);
    expect(await mongoDocs()).toEqual(docs);

    // A newer version still wins (the guard is not stuck).
    await publish([goldRecord(jobIds[0]!, T + 4, null, { status: 'canceled' })]);
    await runUntilCaughtUp();
    expect((await pgRows()).find((r) => r.job_id === jobIds[0])?.status).toBe('canceled');
    expect((await mongoDocs()).find((d) => d._id === jobIds[0])).toMatchObject({
      status: 'canceled',
      workspace_updated_at: null,
    });
  });

  it('applies the version rule in both stores, written directly (null workspace version lowest)', async () => {
    const table = `public.${uniqueName('gold_sink').replace('-', '_')}`;
    await pool.query(`CREATE TABLE ${table} (LIKE gold.enrichment_jobs INCLUDING ALL)`);
    const coll = mongo.db('tributary').collection<GoldDocument>(uniqueName('gold_sink'));
    try {
      const pgSink = createPostgresGoldSink({ pool, table });
      const mongoSink = createMongoGoldSink({ collection: coll });
      const id = randomUUID();
      const rec = (job: number, ws: number | null, offset: string) => ({
        value: goldRecord(id, T + job, ws === null ? null : T + ws),
        partition: 0,
        offset,
      });
      // [record, stored afterwards (its offset)]: each step compared with what is stored.
      const steps: Array<[ReturnType<typeof rec>, string]> = [
        [rec(5, null, '1'), '1'], // first version: inserted
        [rec(5, null, '2'), '1'], // same version again: no change
        [rec(5, 3, '3'), '3'], // same job version, workspace resolved: newer
        [rec(5, 2, '4'), '3'], // older workspace version: ignored
        [rec(4, 9, '5'), '3'], // older job version, whatever the workspace: ignored
        [rec(6, null, '6'), '6'], // newer job version, workspace unresolved again: newer
      ];
      for (const [record, storedOffset] of steps) {
        const changed = storedOffset === record.offset ? 1 : 0;
        expect(await pgSink.write([record])).toBe(changed);
        expect(await mongoSink.write([record])).toBe(changed);
        const row = (await pool.query(`SELECT source_offset FROM ${table} WHERE job_id = $1`, [id])).rows[0];
        expect(row.source_offset).toBe(storedOffset);
        expect((await coll.findOne({ _id: id }))?.source_offset).toBe(Number(storedOffset));
      }
    } finally {
      await pool.query(`DROP TABLE ${table}`);
      await coll.drop().catch(() => {});
    }
  });
});
