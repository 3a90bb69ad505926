import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { DEAD_LETTER_STAGES, deadLetter } from '../../contracts/dead-letter.ts';
import { LEGACY_DEAD_LETTER_HEADERS } from '../../contracts/headers.ts';
import { encodeSnapshot, type MetricSample, ROLE_METRICS, sample } from '../../contracts/metrics/index.ts';
import type { OpsOptions } from '../../ops/options.ts';
import { applyReset, planReset } from '../../ops/reset.ts';
import { workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { createTopics, dropTopics } from '../support/kafka.ts';
import { runCli } from '../support/ops-cli.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('ops-inspect-test'), testLogger);
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
const mongo = new MongoClient(infra.mongo.url);
const id = uniqueName('ops-inspect');
const prefix = `${id}.`;
const topics = {
  plain: `${id}.plain`,
  tx: `${id}.tx`,
  dlq: `dlq.${id}`,
  metrics: `${id}.metrics`,
  stalls: `${id}.stalls`,
};
// its own metrics topic: the roles section shows only what this test publishes
const env = { TRIBUTARY_OPS_GROUP_PREFIX: prefix, TRIBUTARY_METRICS_TOPIC: topics.metrics };

beforeAll(async () => {
  await admin.connect();
  await mongo.connect();
  await createTopics(admin, [
    { topic: topics.plain, partitions: 1 },
    { topic: topics.tx, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
    { topic: topics.metrics, partitions: 1 },
    { topic: topics.stalls, partitions: 1 },
  ]);
});
afterAll(async () => {
  await dropTopics(admin, Object.values(topics));
  await admin.disconnect();
  await pool.end();
  await mongo.close();
});

describe('tributary status and tail', () => {
  it('names the roles that say they are stalled, and those that went silent', async () => {
    const stallsEnv = { ...env, TRIBUTARY_METRICS_TOPIC: topics.stalls };
    const producer = kafka.producer();
    await producer.connect();
    const snapshot = (role: string, instance: string, at: number, gauges: MetricSample[]) => ({
      key: instance,
      timestamp: String(at),
      value: encodeSnapshot({ role, instance, at, counters: [], gauges }),
    });
    // a role not upgraded yet publishes the older `name{k="v"}` form: status still reads it
    const legacySnapshot = (role: string, instance: string, at: number, gauges: Record<string, number>) => ({
      key: instance,
      timestamp: String(at),
      value: JSON.stringify({ role, instance, at, counters: {}, gauges }),
    });
    const { stalled, stallInfo } = ROLE_METRICS;
    const reason = 'group tributary.gold.postgres: no batch committed for 61 s with 1,234 messages waiting';
    const now = Date.now();
    // a processor heard from a minute ago (and an older instance of it), and a replay's progress,
    // which has no liveness and is not a role to report
    await producer.send({
      topic: topics.stalls,
      messages: [
        snapshot('processor', 'processor@h:3', now - 60_000, [sample(stalled, 0)]),
        snapshot('processor', 'processor@h:0', now - 100_000, [sample(stalled, 0)]),
        snapshot('replay', 'replay@h:4', now, []),
      ],
    });
    // two live roles publish every half second, as role processes do, while the commands run
    const live = () =>
      producer.send({
        topic: topics.stalls,
        messages: [
          snapshot('gold-postgres', 'gold-postgres@h:1', Date.now(), [
            sample(stalled, 1),
            sample(stallInfo, 1, { reason }),
          ]),
          legacySnapshot('bronze', 'bronze@h:2', Date.now(), { [stalled.name]: 0 }),
        ],
      });
    await live();
    let publishing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      publishing = live().catch(() => undefined); // the next tick publishes again
    }, 500);
    try {
      const status = await runCli(['status', '--json'], stallsEnv);
      const report = JSON.parse(status.stdout);
      expect(report.roles).toEqual([
        { role: 'bronze', instances: 1, status: 'ok', lastSnapshotSeconds: expect.any(Number) },
        {
          role: 'gold-postgres',
          instances: 1,
          status: 'stalled',
          reason,
          lastSnapshotSeconds: expect.any(Number),
        },
        {
          role: 'processor',
          instances: 0,
          status: 'stale',
          reason: expect.stringMatching(/^no metrics for \d+ s \(stopped, or too stuck to publish\)$/),
          lastSnapshotSeconds: expect.any(Number),
        },
      ]);
      expect(report.roles[2].lastSnapshotSeconds).toBeGreaterThanOrEqual(60);
      expect(status.code).toBe(1); // a stalled role fails the command, for scripts
      const text = await runCli(['status'], stallsEnv);
      expect(text.stdout).toMatch(/gold-postgres.+stalled/);
      expect(text.stdout).toContain('no batch committed');
    } finally {
      clearInterval(timer);
      await publishing;
      await producer.disconnect();
    }
  });

  it('shows lag in messages and seconds, counting transaction markers as caught up, DLQ counts and subjects', async () => {
    const hourAgo = Date.now() - 3600_000;
    const avroId = await registerValueSchema(registry, topics.plain, 'workspace');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.plain,
      messages: [
        {
          key: 'a',
          value: await registry.encode(avroId, workspace({ name: 'avro' })),
          timestamp: String(hourAgo),
        },
        { key: 'b', value: '{"json":true}', timestamp: String(hourAgo + 1000) },
        { key: 'c', value: 'plain text', timestamp: String(hourAgo + 2000) },
      ],
    });
    await producer.send({
      topic: topics.dlq,
      // One letter with today's headers, two with those of older letters: both are read.
      messages: [
        deadLetter({
          message: { key: 'k1', value: 'x' },
          reason: 'requested_count is negative (-1)',
          stage: DEAD_LETTER_STAGES.refused,
          writer: 'tributary.processor',
        }),
        ...[2, 3].map((n) => ({
          key: `k${n}`,
          value: 'x',
          headers: {
            [LEGACY_DEAD_LETTER_HEADERS.reason]: n < 3 ? `requested_count is negative (-${n})` : 'other',
          },
        })),
      ],
    });
    await producer.disconnect();
    const tx = kafka.producer({
      transactionalId: uniqueName('ops-inspect-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({
      topic: topics.tx,
      messages: [
        { key: 'x', value: '1' },
        { key: 'y', value: '2' },
      ],
    });
    await t.commit();
    await tx.disconnect();

    const behind = `${prefix}behind`;
    const caughtUp = `${prefix}caught-up`;
    await admin.setOffsets({
      groupId: behind,
      topic: topics.plain,
      partitions: [{ partition: 0, offset: '0' }],
    });
    // Two records then the commit marker: a consumer that commits explicitly stops at offset 2 of 3.
    await admin.setOffsets({
      groupId: caughtUp,
      topic: topics.tx,
      partitions: [{ partition: 0, offset: '2' }],
    });

    const status = await runCli(['status', '--json'], env);
    const report = JSON.parse(status.stdout);
    expect(report.errors, status.stderr).toEqual({});
    expect(report.infra.every((e: { healthy: boolean }) => e.healthy)).toBe(true);
    const group = (name: string) => report.groups.find((g: { group: string }) => g.group === name);
    expect(group(behind)).toMatchObject({ state: 'Empty', members: [], lagMessages: 3 });
    expect(group(behind).lagSeconds).toBeGreaterThanOrEqual(3600);
    expect(group(behind).lagSeconds).toBeLessThan(3600 + 600);
    expect(group(caughtUp)).toMatchObject({ lagMessages: 0, lagSeconds: 0 });
    expect(group(caughtUp).partitions).toEqual([
      { topic: topics.tx, partition: 0, committed: '2', low: '0', high: '3', lag: 0 },
    ]);
    // The configured pipeline groups are listed even when they do not exist yet.
    expect(group('tributary.processor')).toBeDefined();
    expect(report.deadLetters.find((d: { topic: string }) => d.topic === topics.dlq)).toEqual({
      topic: topics.dlq,
      records: 3,
      reasons: [
        { pattern: 'requested_count is negative (N)', count: 2, example: 'requested_count is negative (-1)' },
      ],
    });
    expect(report.subjects).toContainEqual({ subject: `${topics.plain}-value`, versions: [1] });
    expect(report.roles).toEqual([]);
    expect(status.code).toBe(0);

    const tail = await runCli(['tail', topics.plain, '--from-beginning', '--max', '3', '--json']);
    expect(tail.code, tail.stderr).toBe(0);
    const lines = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.offset, l.key, l.value.format])).toEqual([
      ['0', 'a', 'avro'],
      ['1', 'b', 'json'],
      ['2', 'c', 'text'],
    ]);
    expect(lines[0].value.value).toMatchObject({ name: 'avro' });
    expect(lines[0].timestamp).toBe(new Date(hourAgo).toISOString());

    const missing = await runCli(['tail', `${id}.nope`, '--max', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/topic .*\.nope does not exist/);
    await admin.deleteGroups([behind, caughtUp]);
  });
});

describe('reset', () => {
  it('refuses while a pipeline group has members, then empties tables, the collection, groups and topics', async () => {
    const schema = id.replace(/-/g, '_');
    const rawTopic = `${id}.raw`;
    await pool.query(`CREATE SCHEMA ${schema}`);
    try {
      await pool.query(`CREATE TABLE ${schema}.bronze (LIKE bronze.workspaces INCLUDING ALL)`);
      await pool.query(`CREATE TABLE ${schema}.gold (LIKE gold.enrichment_jobs INCLUDING ALL)`);
      await pool.query(
        `INSERT INTO ${schema}.bronze (id, name, plan, segment, country, owner_email, created_at, updated_at, topic, partition, "offset", schema_id)
         VALUES (gen_random_uuid(), 'n', 'pro', 's', 'DE', 'e', now(), now(), 't', 0, 0, 1)`,
      );
      const collection = mongo.db('tributary').collection(schema);
      await collection.insertMany([{ n: 1 }, { n: 2 }]);
      const ops: OpsOptions = {
        groupPrefix: prefix,
        topics: {
          rawWorkspaces: rawTopic,
          rawJobs: `${id}.raw-jobs`,
          gold: `${id}.gold`,
          goldDlq: `${id}.gold-dlq`,
          processorState: `${id}.state`,
          pollerState: `${id}.poller-state`,
          metrics: `${id}.metrics`,
          walks: `${id}.walks`,
          pollerDlqs: { workspaces: `${id}.dlq-ws`, jobs: `${id}.dlq-jobs` },
          bronzeDlqs: { workspaces: `dlq.${rawTopic}`, jobs: `dlq.${id}.raw-jobs` },
          dlqs: [],
        },
        groups: {
          processor: `${prefix}processor`,
          bronzeWorkspaces: '',
          bronzeJobs: '',
          goldPostgres: '',
          goldMongo: '',
        },
        gold: { table: `${schema}.gold`, mongo: { database: 'tributary', collection: schema } },
        bronzeTables: [`${schema}.bronze`],
      };
      await createTopics(admin, [{ topic: rawTopic, partitions: 2 }]);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: rawTopic, messages: [{ key: 'k', value: 'v' }] });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: `${prefix}processor` });
      await consumer.connect();
      await consumer.subscribe({ topic: rawTopic, fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      const plan = await planReset(admin, ops, { topics: true });
      try {
        expect(plan.groups).toEqual([`${prefix}processor`]);
        await expect(applyReset({ admin, pool, mongo }, plan, { partitions: 2 })).rejects.toThrow(
          new RegExp(`consumer groups with active members: ${prefix}processor`),
        );
        expect(await collection.countDocuments()).toBe(2); // refused before touching anything
      } finally {
        await consumer.disconnect();
      }

      const report = await applyReset({ admin, pool, mongo }, plan, { partitions: 2 });
      expect(report).toMatchObject({
        truncated: [`${schema}.bronze`, `${schema}.gold`],
        documentsDeleted: 2,
        groupsDeleted: [`${prefix}processor`],
      });
      expect(report.topicsRecreated).toContain(rawTopic);
      expect(Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.bronze`)).rows[0].n)).toBe(0);
      expect(await collection.countDocuments()).toBe(0);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(`${prefix}processor`);
      // Re-created empty, with the declared layout (raw topics: the configured partition count).
      const offsets = await admin.fetchTopicOffsets(rawTopic);
      expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: '0', high: '0', low: '0' },
        { partition: 1, offset: '0', high: '0', low: '0' },
      ]);
      await dropTopics(admin, report.topicsRecreated);
      await collection.drop().catch(() => {});
    } finally {
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
