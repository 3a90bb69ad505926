import { randomUUID } from 'node:crypto';
import { type Admin, AssignerProtocol, Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import {
  avroEncoder,
  committedTotal,
  createTopics,
  FAST_GROUP_ENV,
  goldRecord,
  groupCaughtUp,
  metricsTopicOf,
  pollerHeaders,
  type RoleProcess,
  spawnRoleProcess,
  workspaceRecord,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { dropTopics } from '../support/kafka.ts';

/**
 * Bronze and the gold sinks with two instances each (issue 13): plain members of one consumer
 * group per writer, so the group splits the partitions between them, and a kill -9 of one hands
 * its partitions to the other. Both instances of each role are started with the same
 * TRIBUTARY_INSTANCE_ID on purpose: the name only labels them, nothing correct rests on it.
 * Outcomes: every raw offset once in bronze; the topic's latest of every job in Postgres and MongoDB.
 */
const infra = testInfra();
const RECORDS = 3000;
const JOBS = 40;
const VERSIONS = 25;
const T = Date.UTC(2026, 3, 1);

/** Members of a group that hold at least one partition, once the group is stable. */
async function membersWithPartitions(admin: Admin, group: string): Promise<number> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0];
  if (g?.state !== 'Stable') return 0;
  return g.members.filter((m) => {
    const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
    return Object.values(a).some((partitions) => partitions.length > 0);
  }).length;
}

describe('bronze and gold sinks: two instances each', () => {
  const kafka = createKafka(infra.kafka, uniqueName('sinks-scaleout'), testLogger);
  const admin = kafka.admin();
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const mongo = new MongoClient(infra.mongo.url);
  const raw = uniqueName('raw.workspaces-scaleout');
  const gold = uniqueName('gold.enrichment-jobs-scaleout');
  const collection = uniqueName('enrichment_jobs');
  const jobIds = Array.from({ length: JOBS }, () => randomUUID());
  const procs: RoleProcess[] = [];

  afterAll(async () => {
    for (const p of procs) await p.kill9();
    await dropTopics(admin, [raw, `dlq.${raw}`, gold, `dlq.${gold}`, metricsTopicOf(raw)]);
    await admin.disconnect();
    await pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [raw]);
    await pool.query('DELETE FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])', [jobIds]);
    await pool.end();
    await mongo
      .db('tributary')
      .collection(collection)
      .drop()
      .catch(() => {}); // never created when the test failed before the sinks ran
    await mongo.close();
  });

  it('split the partitions, survive a kill -9 of one instance, and write everything once', async () => {
    await Promise.all([admin.connect(), mongo.connect()]);
    await createTopics(admin, [raw, `dlq.${raw}`, gold, `dlq.${gold}`, metricsTopicOf(raw)]);
    const registry = createSchemaRegistry(infra.registry);
    const ws = await avroEncoder(registry, raw, 'workspace');
    const gj = await avroEncoder(registry, gold, 'enrichment-job-gold');
    const order = Array.from({ length: VERSIONS }, (_, v) => (v * 7) % VERSIONS);
    const last = order[VERSIONS - 1]!;
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let sent = 0; sent < RECORDS; sent += 500) {
        const records = Array.from({ length: 500 }, () => workspaceRecord());
        const messages = await Promise.all(
          records.map(async (w) => ({ key: w.id, value: await ws.encode(w), headers: pollerHeaders() })),
        );
        await producer.send({ topic: raw, acks: -1, messages });
      }
      for (const v of order) {
        const messages = await Promise.all(
          jobIds.map(async (id) => ({
            key: id,
            value: await gj.encode(
              goldRecord(id, T + v, T + 1, v === last ? { status: 'completed', is_terminal: true } : {}),
            ),
          })),
        );
        await producer.send({ topic: gold, acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }

    const groups = {
      bronze: uniqueName('bronze-scaleout'),
      pg: uniqueName('gold-scaleout-pg'),
      mongo: uniqueName('gold-scaleout-mongo'),
    };
    const env = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_INSTANCE_ID: 'same-name-twice',
      TRIBUTARY_METRICS_TOPIC: metricsTopicOf(raw),
      TRIBUTARY_BRONZE_TOPICS: 'workspaces',
      TRIBUTARY_RAW_WORKSPACES_TOPIC: raw,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: groups.bronze,
      TRIBUTARY_BRONZE_BATCH_SIZE: '5',
      TRIBUTARY_BRONZE_PARTITIONS_CONCURRENTLY: '1',
      TRIBUTARY_GOLD_TOPIC: gold,
      TRIBUTARY_GOLD_POSTGRES_GROUP: groups.pg,
      TRIBUTARY_GOLD_MONGO_GROUP: groups.mongo,
      TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
      TRIBUTARY_GOLD_BATCH_SIZE: '5',
    };
    const spawnBoth = () => {
      const b = spawnRoleProcess('consumers/bronze/process.ts', env);
      const g = spawnRoleProcess('consumers/gold-sinks/process.ts', env);
      procs.push(b, g);
      return { bronze: b, gold: g };
    };
    try {
      spawnBoth();
      const second = spawnBoth();
      // The groups give partitions to both instances of each writer (3 partitions, 2 members).
      await waitFor(
        async () =>
          (await membersWithPartitions(admin, groups.bronze)) === 2 &&
          (await membersWithPartitions(admin, groups.pg)) === 2 &&
          (await membersWithPartitions(admin, groups.mongo)) === 2,
        { timeoutMs: 120_000, intervalMs: 250, what: 'two members with partitions in each group' },
      );
      // kill -9 the second instance of each role while work is left; the first takes its partitions
      const progressAtKill = await committedTotal(admin, groups.bronze, raw);
      await second.bronze.kill9();
      await second.gold.kill9();
      await waitFor(
        async () =>
          (await groupCaughtUp(admin, groups.bronze, raw)) &&
          (await groupCaughtUp(admin, groups.pg, gold)) &&
          (await groupCaughtUp(admin, groups.mongo, gold)),
        { timeoutMs: 180_000, what: 'every group caught up after the kill' },
      );
      expect(progressAtKill).toBeLessThan(RECORDS);
      for (const p of procs.slice(0, 2)) expect(await p.stop()).toBe(0);
    } catch (err) {
      const tails = procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
    }

    const { rows } = await pool.query(
      `SELECT partition, count(*)::int AS n, count(DISTINCT "offset")::int AS distinct_offsets
         FROM bronze.workspaces WHERE topic = $1 GROUP BY partition ORDER BY partition`,
      [raw],
    );
    const ends = await admin.fetchTopicOffsets(raw);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(RECORDS);
    for (const r of rows) {
      const high = Number(ends.find((e) => e.partition === r.partition)!.high);
      expect(r).toEqual({ partition: r.partition, n: high, distinct_offsets: high });
    }
    const goldRows = (
      await pool.query(
        'SELECT status, job_updated_at FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])',
        [jobIds],
      )
    ).rows;
    expect(goldRows).toHaveLength(JOBS);
    for (const r of goldRows) expect(r).toEqual({ status: 'completed', job_updated_at: new Date(T + last) });
    const docs = await mongo
      .db('tributary')
      .collection<{ _id: string }>(collection)
      .find({ _id: { $in: jobIds } }, { projection: { _id: 0, status: 1, job_updated_at: 1 } })
      .toArray();
    expect(docs).toHaveLength(JOBS);
    for (const d of docs) expect(d).toEqual({ status: 'completed', job_updated_at: new Date(T + last) });
  });
});
