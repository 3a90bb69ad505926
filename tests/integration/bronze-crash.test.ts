import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import {
  avroEncoder,
  createTopics,
  FAST_GROUP_ENV,
  groupCaughtUp,
  metricsTopicOf,
  pollerHeaders,
  type RoleProcess,
  spawnRoleProcess,
  workspaceRecord,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';

const infra = testInfra();
const RECORDS = 4000;
const KILLS = 3;

describe('bronze process killed with SIGKILL', () => {
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const topic = uniqueName('raw.workspaces-crash');
  const kafka = createKafka(infra.kafka, uniqueName('bronze-crash'), testLogger);
  const admin = kafka.admin();
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, `dlq.${topic}`, metricsTopicOf(topic)] }).catch(() => {});
    await admin.disconnect();
    await pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [topic]);
    await pool.end();
  });

  const count = async () =>
    Number(
      (await pool.query('SELECT count(*) AS n FROM bronze.workspaces WHERE topic = $1', [topic])).rows[0].n,
    );

  it('has every (topic, partition, offset) exactly once after several kill -9 and restarts', async () => {
    await admin.connect();
    await createTopics(admin, [topic, `dlq.${topic}`, metricsTopicOf(topic)]);
    const { encode } = await avroEncoder(createSchemaRegistry(infra.registry), topic, 'workspace');
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let sent = 0; sent < RECORDS; sent += 500) {
        const records = Array.from({ length: 500 }, () => workspaceRecord());
        const messages = await Promise.all(
          records.map(async (w) => ({ key: w.id, value: await encode(w), headers: pollerHeaders() })),
        );
        await producer.send({ topic, acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }

    const env = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_METRICS_TOPIC: metricsTopicOf(topic),
      TRIBUTARY_BRONZE_TOPICS: 'workspaces',
      TRIBUTARY_RAW_WORKSPACES_TOPIC: topic,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: uniqueName('bronze-crash'),
      // Small transactions, one partition at a time: the run lasts long enough to be cut in the middle.
      TRIBUTARY_BRONZE_BATCH_SIZE: '5',
      TRIBUTARY_BRONZE_PARTITIONS_CONCURRENTLY: '1',
    };
    const atKill: number[] = [];
    let proc: RoleProcess | undefined;
    try {
      for (let k = 1; k <= KILLS; k++) {
        proc = spawnRoleProcess('consumers/bronze/process.ts', env);
        const threshold = (RECORDS * k) / (KILLS + 1);
        const running = proc;
        await waitFor(async () => (await count()) >= threshold, {
          timeoutMs: 120_000,
          intervalMs: 50,
          what: `${threshold} bronze rows before kill ${k} (process output: ${running.output()})`,
        });
        await proc.kill9();
        atKill.push(await count());
      }
      proc = spawnRoleProcess('consumers/bronze/process.ts', env);
      const last = proc;
      await waitFor(async () => (await count()) >= RECORDS, {
        timeoutMs: 120_000,
        what: `all ${RECORDS} rows (process output: ${last.output()})`,
      });
      expect(await proc.stop()).toBe(0);
      // The graceful stop finished and committed the last batch: nothing left to consume.
      expect(await groupCaughtUp(admin, env.TRIBUTARY_BRONZE_WORKSPACES_GROUP, topic)).toBe(true);
    } finally {
      await proc?.kill9();
    }

    // Every kill happened with work left to do.
    expect(atKill.every((n) => n < RECORDS)).toBe(true);
    const { rows } = await pool.query(
      `SELECT partition, count(*)::int AS n, count(DISTINCT "offset")::int AS distinct_offsets,
              min("offset")::int AS min, max("offset")::int AS max
         FROM bronze.workspaces WHERE topic = $1 GROUP BY partition ORDER BY partition`,
      [topic],
    );
    const ends = await admin.fetchTopicOffsets(topic);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(RECORDS);
    for (const r of rows) {
      const high = Number(ends.find((e) => e.partition === r.partition)!.high);
      // exactly once (no duplicate offset) and none missing (offsets 0 … high-1 all present)
      expect(r).toEqual({ partition: r.partition, n: high, distinct_offsets: high, min: 0, max: high - 1 });
    }
  });
});
