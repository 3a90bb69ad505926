import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import {
  avroEncoder,
  committedTotal,
  createTopics,
  FAST_GROUP_ENV,
  goldRecord,
  groupCaughtUp,
  metricsTopicOf,
  type RoleProcess,
  spawnRoleProcess,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';

const infra = testInfra();
const JOBS = 60;
const VERSIONS = 40;
const KILLS = 3;
const T = Date.UTC(2026, 2, 1);

describe('gold sinks process killed with SIGKILL', () => {
  const kafka = createKafka(infra.kafka, uniqueName('gold-crash'), testLogger);
  const admin = kafka.admin();
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const mongo = new MongoClient(infra.mongo.url);
  const topic = uniqueName('gold.enrichment-jobs-crash');
  const collection = uniqueName('enrichment_jobs');
  const jobIds = Array.from({ length: JOBS }, () => randomUUID());
  afterAll(async () => {
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

  it('ends with the newest version of every job in Postgres and MongoDB', async () => {
    await Promise.all([admin.connect(), mongo.connect()]);
    await createTopics(admin, [topic, `dlq.${topic}`, metricsTopicOf(topic)]);
    const { encode } = await avroEncoder(createSchemaRegistry(infra.registry), topic, 'enrichment-job-gold');
    // Versions v = 0 … VERSIONS-1 of each job in a scrambled order; the newest is (T+VERSIONS-1, T+1).
    const version = (id: string, v: number): EnrichmentJobGold =>
      v === VERSIONS - 1
        ? goldRecord(id, T + v, T + 1, { status: 'completed', is_terminal: true })
        : goldRecord(id, T + v, v % 3 === 0 ? null : T + 100 - v);
    const order = Array.from({ length: VERSIONS }, (_, v) => (v * 17) % VERSIONS);
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (const v of order) {
        const messages = await Promise.all(
          jobIds.map(async (id) => ({ key: id, value: await encode(version(id, v)) })),
        );
        await producer.send({ topic, acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }

    const env = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_METRICS_TOPIC: metricsTopicOf(topic),
      TRIBUTARY_GOLD_TOPIC: topic,
      TRIBUTARY_GOLD_POSTGRES_GROUP: uniqueName('gold-crash-pg'),
      TRIBUTARY_GOLD_MONGO_GROUP: uniqueName('gold-crash-mongo'),
      TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
      TRIBUTARY_GOLD_BATCH_SIZE: '5',
    };
    const total = JOBS * VERSIONS;
    const progress = async () =>
      Math.min(
        await committedTotal(admin, env.TRIBUTARY_GOLD_POSTGRES_GROUP, topic),
        await committedTotal(admin, env.TRIBUTARY_GOLD_MONGO_GROUP, topic),
      );
    const atKill: number[] = [];
    let proc: RoleProcess | undefined;
    try {
      for (let k = 1; k <= KILLS; k++) {
        proc = spawnRoleProcess('consumers/gold-sinks/process.ts', env);
        const threshold = (total * k) / (KILLS + 1);
        const running = proc;
        await waitFor(async () => (await progress()) >= threshold, {
          timeoutMs: 120_000,
          intervalMs: 50,
          what: `${threshold} committed gold records before kill ${k} (process output: ${running.output()})`,
        });
        await proc.kill9();
        atKill.push(await progress());
      }
      proc = spawnRoleProcess('consumers/gold-sinks/process.ts', env);
      const last = proc;
      await waitFor(
        async () =>
          (await groupCaughtUp(admin, env.TRIBUTARY_GOLD_POSTGRES_GROUP, topic)) &&
          (await groupCaughtUp(admin, env.TRIBUTARY_GOLD_MONGO_GROUP, topic)),
        { timeoutMs: 120_000, what: `both sinks to catch up (process output: ${last.output()})` },
      );
      expect(await proc.stop()).toBe(0);
    } finally {
      await proc?.kill9();
    }

    expect(atKill.every((n) => n < total)).toBe(true);
    const rows = (
      await pool.query(
        'SELECT job_id, status, job_updated_at, workspace_updated_at FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])',
        [jobIds],
      )
    ).rows;
    expect(rows).toHaveLength(JOBS);
    for (const r of rows) {
      expect(r).toEqual({
        job_id: r.job_id,
        status: 'completed',
        job_updated_at: new Date(T + VERSIONS - 1),
        workspace_updated_at: new Date(T + 1),
      });
    }
    const docs = await mongo
      .db('tributary')
      .collection<{ _id: string }>(collection)
      .find(
        { _id: { $in: jobIds } },
        { projection: { status: 1, job_updated_at: 1, workspace_updated_at: 1 } },
      )
      .toArray();
    expect(docs).toHaveLength(JOBS);
    for (const d of docs) {
      expect(d).toEqual({
        _id: d._id,
        status: 'completed',
        job_updated_at: new Date(T + VERSIONS - 1),
        workspace_updated_at: new Date(T + 1),
      });
    }
  });
});
