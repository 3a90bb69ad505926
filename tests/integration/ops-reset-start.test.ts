import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createTopicsReady } from '../../common/topic-admin.ts';
import { waitFor } from '../../common/wait-for.ts';
import { migrate } from '../../infra/migrate.ts';
import { opsOptions } from '../../ops/options.ts';
import { pipelineTopics } from '../../ops/reset.ts';
import { FAST_GROUP_ENV } from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, dropTopics } from '../support/kafka.ts';
import { type CliRun, runCli, startCli } from '../support/ops-cli.ts';
import { startTestSource, type TestSource } from '../support/poller-harness.ts';

/**
 * `tributary reset --topics --yes && tributary start`, as an operator types it: the reset deletes
 * and re-creates the topics, and the roles started right after must find them usable (the
 * pollers read their state topic's offsets at start, the processor joins and produces at once).
 *
 * Everything is private to this test so that nothing shared is emptied: topic and group names are
 * random, and reset truncates the bronze and gold tables of a database created for this test
 * (TRIBUTARY_POSTGRES_URL), migrated like the real one.
 */
const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('reset-start-test'), testLogger);
const admin = kafka.admin();
const id = uniqueName('reset-start');
const database = id.replace(/-/g, '_');
const PARTITIONS = 2;
const topics = {
  rawWorkspaces: `${id}.raw.workspaces`,
  rawJobs: `${id}.raw.jobs`,
  gold: `${id}.gold`,
};
let source: TestSource;
let server: pg.Pool;
let privateUrl: string;
let env: Record<string, string>;

beforeAll(async () => {
  await admin.connect();
  server = new pg.Pool({ connectionString: infra.postgres.url, max: 1 });
  await server.query(`CREATE DATABASE ${database}`);
  const url = new URL(infra.postgres.url);
  url.pathname = `/${database}`;
  privateUrl = url.toString();
  await migrate(privateUrl, () => {});
  source = await startTestSource();
  env = {
    ...FAST_GROUP_ENV,
    TRIBUTARY_POSTGRES_URL: privateUrl,
    TRIBUTARY_TOPIC_PARTITIONS: String(PARTITIONS),
    TRIBUTARY_OPS_GROUP_PREFIX: `${id}.`,
    TRIBUTARY_SOURCE_URL: source.url,
    TRIBUTARY_RAW_WORKSPACES_TOPIC: topics.rawWorkspaces,
    TRIBUTARY_RAW_JOBS_TOPIC: topics.rawJobs,
    // the pollers' dead letters (JSON), apart from bronze's dlq.<raw topic> (Avro)
    TRIBUTARY_DLQ_WORKSPACES_TOPIC: `${id}.dlq.source.workspaces`,
    TRIBUTARY_DLQ_JOBS_TOPIC: `${id}.dlq.source.jobs`,
    TRIBUTARY_GOLD_TOPIC: topics.gold,
    TRIBUTARY_GOLD_DLQ_TOPIC: `${id}.dlq.gold`,
    TRIBUTARY_PROCESSOR_STATE_TOPIC: `${id}.processor-state`,
    TRIBUTARY_POLLER_STATE_TOPIC: `${id}.poller-state`,
    TRIBUTARY_METRICS_TOPIC: `${id}.metrics`,
    TRIBUTARY_WALKS_TOPIC: `${id}.walks`,
    TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX: `${id}.poller`,
    TRIBUTARY_PROCESSOR_GROUP: `${id}.processor`,
    TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
    TRIBUTARY_BRONZE_WORKSPACES_GROUP: `${id}.bronze.workspaces`,
    TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: `${id}.bronze.jobs`,
    TRIBUTARY_GOLD_POSTGRES_GROUP: `${id}.gold.postgres`,
    TRIBUTARY_GOLD_MONGO_GROUP: `${id}.gold.mongo`,
    TRIBUTARY_GOLD_MONGO_COLLECTION: database,
    TRIBUTARY_POLL_INTERVAL_MS: '200',
    TRIBUTARY_POLL_PAGE_SIZE: '5',
  };
});

afterAll(async () => {
  await source?.close();
  const ops = env ? opsOptions(env) : undefined;
  if (ops) {
    await dropTopics(admin, [...new Set([...pipelineTopics(ops).map((t) => t.name), ...ops.topics.dlqs])]);
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const groups = Object.values(ops.groups).filter((g) => existing.has(g));
    if (groups.length > 0) await admin.deleteGroups(groups);
  }
  await admin.disconnect();
  await server?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await server?.end();
});

describe('tributary reset --topics, then tributary start at once', () => {
  it('re-creates the topics usable, so roles started right after poll, join and write', async () => {
    const ops = opsOptions(env);
    // The pipeline as it was: its topics, with an old record, one partition each.
    await createTopicsReady(
      admin,
      pipelineTopics(ops).map((t) => ({ topic: t.name, numPartitions: 1 })),
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.rawWorkspaces,
      messages: [{ key: 'old', value: 'from before the reset' }],
    });
    await producer.disconnect();

    const reset = await runCli(['reset', '--topics', '--yes'], env);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(new RegExp(`re-created topics .*${topics.rawWorkspaces}`));

    let start: CliRun | undefined = startCli(
      ['start', '--no-infra', '--role', 'pollers', '--role', 'bronze', '--role', 'processor'],
      env,
    );
    const output = () => `start output:\n${start?.stdout()}\n${start?.stderr()}`;
    try {
      // Joined records on the gold topic: pollers → raw topics → processor → gold, all on the new topics.
      const gold = await consumeUntil(kafka, [topics.gold], (r) => r.length >= 5, {
        timeoutMs: 120_000,
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      });
      expect(gold.length).toBeGreaterThanOrEqual(5);
      // Bronze rows in the private database, from the new raw topic.
      const db = new pg.Pool({ connectionString: privateUrl, max: 1 });
      try {
        await waitFor(
          async () =>
            Number(
              (
                await db.query('SELECT count(*) AS n FROM bronze.workspaces WHERE topic = $1', [
                  topics.rawWorkspaces,
                ])
              ).rows[0].n,
            ) > 0,
          { timeoutMs: 120_000, what: 'bronze rows from the new raw topic' },
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${output()}`);
        });
      } finally {
        await db.end();
      }
      // The raw topic is the re-created one: the configured partition count, and no old record.
      const offsets = await admin.fetchTopicOffsets(topics.rawWorkspaces);
      expect(offsets).toHaveLength(PARTITIONS);
      const raw = await consumeUntil(kafka, [topics.rawWorkspaces], (r) => r.length >= 3);
      expect(raw.map((r) => r.key)).not.toContain('old');

      const run = start;
      start = undefined;
      run.child.kill('SIGTERM');
      expect(await run.exited, `start output:\n${run.stdout()}\n${run.stderr()}`).toBe(0);
    } finally {
      if (start) {
        start.child.kill('SIGKILL');
        await start.exited;
      }
    }
  });
});
