import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { bronzeRole } from '../../consumers/bronze/role.ts';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import { HEADERS } from '../../contracts/headers.ts';
import type { RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import {
  avroEncoder,
  createTopics,
  FAST_GROUP_ENV,
  groupCaughtUp,
  jobRecord,
  metricsTopicOf,
  pollerHeaders,
  readTopic,
  silentLogger,
  workspaceRecord,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { dropTopics } from '../support/kafka.ts';

const infra = testInfra();

describe('bronze writer', () => {
  const kafka = createKafka(infra.kafka, uniqueName('bronze-test'), testLogger);
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const registry = createSchemaRegistry(infra.registry);
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const topics: string[] = [];

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await dropTopics(admin, topics);
    await admin.disconnect();
    for (const t of topics) {
      await pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [t]);
      await pool.query('DELETE FROM bronze.enrichment_jobs WHERE topic = $1', [t]);
    }
    await pool.end();
  });

  /** Random raw topics (with their DLQs) and groups, and the role environment that points at them. */
  async function setup() {
    const ws = uniqueName('raw.workspaces');
    const jobs = uniqueName('raw.enrichment-jobs');
    const created = [ws, jobs, `dlq.${ws}`, `dlq.${jobs}`, metricsTopicOf(ws)];
    topics.push(...created);
    await createTopics(admin, created);
    const env = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_METRICS_TOPIC: metricsTopicOf(ws),
      TRIBUTARY_RAW_WORKSPACES_TOPIC: ws,
      TRIBUTARY_RAW_JOBS_TOPIC: jobs,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: uniqueName('bronze-ws'),
      TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: uniqueName('bronze-jobs'),
      TRIBUTARY_BRONZE_BATCH_SIZE: '4',
    };
    return { ws, jobs, env };
  }

  const start = (env: Record<string, string>): Promise<RunningRole> =>
    startRoleFromEnv(bronzeRole, { infra, env, logger: silentLogger });

  const count = async (table: string, topic: string) =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${table} WHERE topic = $1`, [topic])).rows[0].n);

  it('writes a batch once with its lineage, skips aborted transactions, and a replay adds no row', async () => {
    const { ws, jobs, env } = await setup();
    const wsAvro = await avroEncoder(registry, ws, 'workspace');
    const jobAvro = await avroEncoder(registry, jobs, 'enrichment-job');
    const workspaces = Array.from({ length: 10 }, (_, i) =>
      workspaceRecord({ updated_at: 1_767_225_600_000 + i }),
    );
    const job = jobRecord({ status: 'completed', finished_at: 1_767_225_700_000, error_code: 'none' });
    const headers = pollerHeaders('req-1');

    // Like the pollers: transactional producers; the aborted transaction must never reach bronze.
    const tx = kafka.producer({
      transactionalId: uniqueName('bronze-test-tx'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await tx.connect();
    let role: RunningRole | undefined;
    try {
      const committed = await tx.transaction();
      await committed.send({
        topic: ws,
        messages: await Promise.all(
          workspaces.map(async (w) => ({ key: w.id, value: await wsAvro.encode(w), headers })),
        ),
      });
      await committed.send({
        topic: jobs,
        messages: [{ key: job.workspace_id, value: await jobAvro.encode(job), headers }],
      });
      await committed.commit();

      role = await start(env);
      await waitFor(
        async () =>
          (await count('bronze.workspaces', ws)) === 10 &&
          (await count('bronze.enrichment_jobs', jobs)) === 1,
        {
          timeoutMs: 90_000,
          what: 'the batch in bronze',
        },
      );
      // An aborted transaction at the end of the topic, after bronze has read the rest: kafkajs hands
      // the consumer nothing of it, and the group must still commit past it (lag 0).
      const aborted = await tx.transaction();
      const ghost = workspaceRecord({ name: 'ghost' });
      await aborted.send({
        topic: ws,
        messages: [{ key: ghost.id, value: await wsAvro.encode(ghost), headers }],
      });
      await aborted.abort();
      await waitFor(() => groupCaughtUp(admin, env.TRIBUTARY_BRONZE_WORKSPACES_GROUP, ws), {
        timeoutMs: 60_000,
        what: 'the workspaces group to commit the end of the topic (past the aborted records)',
      });
    } finally {
      await tx.disconnect();
      await role?.close();
    }

    const { rows } = await pool.query(
      'SELECT * FROM bronze.workspaces WHERE topic = $1 ORDER BY updated_at',
      [ws],
    );
    expect(rows.map((r) => r.id)).toEqual(workspaces.map((w) => w.id));
    expect(rows.some((r) => r.name === 'ghost')).toBe(false);
    const first = rows[0];
    expect(first).toMatchObject({
      name: workspaces[0]!.name,
      plan: 'pro',
      segment: 'smb',
      country: 'FR',
      owner_email: 'owner@example.com',
      topic: ws,
      schema_id: wsAvro.id,
      source: 'test-api',
      source_request_id: 'req-1',
    });
    expect(first.created_at).toEqual(new Date(workspaces[0]!.created_at));
    expect(first.updated_at).toEqual(new Date(workspaces[0]!.updated_at));
    expect(first.fetched_at).toEqual(new Date(headers[HEADERS.fetchedAt] as string));
    expect(first.kafka_timestamp).toBeInstanceOf(Date);
    expect(first.ingested_at).toBeInstanceOf(Date);
    const positions = new Set(rows.map((r) => `${r.partition}/${r.offset}`));
    expect(positions.size).toBe(10);

    const jobRows = (await pool.query('SELECT * FROM bronze.enrichment_jobs WHERE topic = $1', [jobs])).rows;
    expect(jobRows).toHaveLength(1);
    expect(jobRows[0]).toMatchObject({
      id: job.id,
      workspace_id: job.workspace_id,
      kind: 'company',
      status: 'completed',
      requested_count: 100,
      enriched_count: 10,
      failed_count: 1,
      error_code: 'none',
      schema_id: jobAvro.id,
    });
    expect(jobRows[0].finished_at).toEqual(new Date(job.finished_at!));

    // Replay: the group starts again from the earliest offset; every message is written again and skipped.
    await admin.resetOffsets({ groupId: env.TRIBUTARY_BRONZE_WORKSPACES_GROUP, topic: ws, earliest: true });
    await admin.resetOffsets({
      groupId: env.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP,
      topic: jobs,
      earliest: true,
    });
    role = await start(env);
    try {
      await waitFor(
        async () =>
          (await groupCaughtUp(admin, env.TRIBUTARY_BRONZE_WORKSPACES_GROUP, ws)) &&
          (await groupCaughtUp(admin, env.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP, jobs)),
        { timeoutMs: 90_000, what: 'the replay to be committed' },
      );
    } finally {
      await role.close();
    }
    const after = (
      await pool.query('SELECT * FROM bronze.workspaces WHERE topic = $1 ORDER BY updated_at', [ws])
    ).rows;
    expect(after).toEqual(rows);
    expect(await count('bronze.enrichment_jobs', jobs)).toBe(1);
  });

  it('sends undecodable messages to the DLQ with reasons and writes the valid ones', async () => {
    const { jobs, env } = await setup();
    const jobAvro = await avroEncoder(registry, jobs, 'enrichment-job');
    // A workspace schema registered elsewhere: valid Avro wire format, but the wrong record type.
    const otherSubject = uniqueName('other');
    const wsId = await registerValueSchema(registry, otherSubject, 'workspace');
    const valid = [jobRecord(), jobRecord()];
    const goodValue = await jobAvro.encode(valid[0]);
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), goodValue.subarray(5)]);
    const bad: Array<{ key: string; value: Buffer | null; reason: RegExp }> = [
      { key: 'text', value: Buffer.from('{"id":"not avro"}'), reason: /not Confluent Avro wire format/ },
      { key: 'unknown-id', value: unknownId, reason: /schema id 2147483632 is unknown/ },
      {
        key: 'wrong-schema',
        value: await registry.encode(wsId, workspaceRecord()),
        reason: /cannot be read as/,
      },
      { key: 'truncated', value: goodValue.subarray(0, 12), reason: /Avro payload is invalid/ },
      { key: 'bad-uuid', value: await jobAvro.encode(jobRecord({ id: 'not-a-uuid' })), reason: /not a UUID/ },
      { key: 'tombstone', value: null, reason: /tombstone/ },
    ];
    await producer.send({
      topic: jobs,
      acks: -1,
      messages: [
        { key: valid[0]!.workspace_id, value: goodValue, headers: pollerHeaders() },
        ...bad.map((b) => ({ key: b.key, value: b.value, headers: { 'x-test': `original-${b.key}` } })),
        { key: valid[1]!.workspace_id, value: await jobAvro.encode(valid[1]), headers: pollerHeaders() },
      ],
    });

    const role = await start({ ...env, TRIBUTARY_BRONZE_TOPICS: 'enrichment-jobs' });
    let dead: Awaited<ReturnType<typeof readTopic>>;
    try {
      dead = await readTopic(kafka, `dlq.${jobs}`, bad.length);
      await waitFor(() => groupCaughtUp(admin, env.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP, jobs), {
        timeoutMs: 60_000,
        what: 'the group to commit past the bad messages',
      });
    } finally {
      await role.close();
    }

    const ids = (await pool.query('SELECT id FROM bronze.enrichment_jobs WHERE topic = $1', [jobs])).rows.map(
      (r) => r.id,
    );
    expect(ids.sort()).toEqual(valid.map((j) => j.id).sort());
    expect(dead).toHaveLength(bad.length);
    for (const b of bad) {
      const letter = dead.find((m) => m.key?.toString() === b.key);
      expect(letter, b.key).toBeDefined();
      expect(letter!.value === null ? null : Buffer.from(letter!.value)).toEqual(b.value);
      const context = readDeadLetter(letter!.headers);
      expect(context.reason).toMatch(b.reason);
      expect(context.from).toMatchObject({ topic: jobs, partition: expect.any(Number) });
      expect(context.from!.offset).toMatch(/^\d+$/);
      expect(context.writer).toBe(env.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP);
      expect(context.stage).toMatch(/^(VALUE_CONVERTER|TASK_PUT)$/);
      expect(letter!.headers!['x-test']!.toString()).toBe(`original-${b.key}`);
    }
  });

  it('refuses to start, naming the topic, when a topic it needs is missing', async () => {
    const { env } = await setup();
    const missing = uniqueName('raw.workspaces-missing');
    await expect(start({ ...env, TRIBUTARY_RAW_WORKSPACES_TOPIC: missing })).rejects.toThrow(
      `missing Kafka topic(s): ${missing}, dlq.${missing}`,
    );
  });
});
