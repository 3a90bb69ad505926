import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { createTopicLimits } from '../../common/kafka-limits.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import { waitFor } from '../../common/wait-for.ts';
import { createGoldConsumer } from '../../consumers/gold-sinks/consumer.ts';
import { createPostgresGoldSink } from '../../consumers/gold-sinks/postgres-sink.ts';
import { goldMongoRole } from '../../consumers/gold-sinks/role.ts';
import { processorRole } from '../../consumers/processor/role.ts';
import type { BatchConsumer } from '../../consumers/shared/batch-consumer.ts';
import { consumerConfig } from '../../consumers/shared/consumer-config.ts';
import { createDeadLetterQueue } from '../../consumers/shared/dead-letter.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import type { RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import { FAST_GROUP_ENV, silentLogger } from './consumer-fixtures.ts';
import { uniqueName } from './infra.ts';
import { createTopics, dropTopics, groupCaughtUp } from './kafka.ts';

/**
 * A complete, private gold for the rebuild-gold tests: raw topics, the real processor (its role),
 * the real MongoDB sink (its role) and the real Postgres sink code writing to a test table, all with
 * random names. `run()` builds the current gold from whatever is on the raw topics.
 */
export function goldFixture() {
  const id = uniqueName('ops-gold');
  const table = `gold.${id.replace(/-/g, '_')}`;
  const topics = {
    workspaces: `${id}.raw.workspaces`,
    jobs: `${id}.raw.jobs`,
    gold: `${id}.gold`,
    goldDlq: `${id}.dlq.gold`,
    sinkDlq: `dlq.${id}.gold`,
    state: `${id}.state`,
    metrics: `${id}.metrics`,
  };
  const groups = { processor: `${id}.processor`, postgres: `${id}.postgres`, mongo: `${id}.mongo` };
  const collection = id.replace(/-/g, '_');
  const env: Record<string, string> = {
    ...FAST_GROUP_ENV,
    TRIBUTARY_PROCESSOR_GROUP: groups.processor,
    TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
    TRIBUTARY_RAW_WORKSPACES_TOPIC: topics.workspaces,
    TRIBUTARY_RAW_JOBS_TOPIC: topics.jobs,
    TRIBUTARY_GOLD_TOPIC: topics.gold,
    TRIBUTARY_GOLD_DLQ_TOPIC: topics.goldDlq,
    TRIBUTARY_PROCESSOR_STATE_TOPIC: topics.state,
    TRIBUTARY_METRICS_TOPIC: topics.metrics,
    TRIBUTARY_GOLD_MONGO_GROUP: groups.mongo,
    TRIBUTARY_GOLD_MONGO_COLLECTION: collection,
  };
  /** the rebuild-gold options that point it at this gold */
  const cliArgs = [
    '--raw-workspaces-topic',
    topics.workspaces,
    '--raw-jobs-topic',
    topics.jobs,
    '--gold-topic',
    topics.gold,
    '--gold-table',
    table,
    '--mongo-collection',
    collection,
  ];

  return {
    table,
    topics,
    collection,
    env,
    cliArgs,
    async create(admin: Admin, pool: pg.Pool) {
      await createTopics(admin, [
        { topic: topics.workspaces },
        { topic: topics.jobs },
        { topic: topics.gold, compact: true },
        { topic: topics.goldDlq, partitions: 1 },
        { topic: topics.sinkDlq, partitions: 1 },
        { topic: topics.state, compact: true },
        { topic: topics.metrics, partitions: 1 },
      ]);
      await pool.query(`CREATE TABLE ${table} (LIKE gold.enrichment_jobs INCLUDING ALL)`);
    },
    /** Runs the pipeline until the gold holds `expectedJobs` jobs in every store, then stops it. */
    async run(
      deps: {
        infra: InfraOptions;
        kafka: Kafka;
        admin: Admin;
        registry: SchemaRegistry;
        pool: pg.Pool;
        mongo: MongoClient;
      },
      expectedJobs: number,
    ) {
      const roles: RunningRole[] = [];
      const producer = deps.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      let postgres: BatchConsumer | undefined;
      try {
        roles.push(await startRoleFromEnv(processorRole, { infra: deps.infra, env, logger: silentLogger }));
        roles.push(await startRoleFromEnv(goldMongoRole, { infra: deps.infra, env, logger: silentLogger }));
        await producer.connect();
        postgres = createGoldConsumer({
          sinkName: 'postgres',
          createConsumer: () =>
            deps.kafka.consumer(
              consumerConfig(groups.postgres, { sessionTimeoutMs: 8000, heartbeatIntervalMs: 1000 }),
            ),
          groupId: groups.postgres,
          registry: deps.registry,
          sink: createPostgresGoldSink({ pool: deps.pool, table }),
          deadLetters: createDeadLetterQueue({
            producer,
            groupId: groups.postgres,
            limits: createTopicLimits({ kafka: deps.kafka }),
          }),
          metrics: createRoleMetrics('gold-postgres'),
          logger: silentLogger,
          topic: topics.gold,
          batchSize: 100,
        });
        await postgres.start();
        const rows = async () =>
          Number((await deps.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
        const docs = () => deps.mongo.db('tributary').collection(collection).countDocuments();
        await waitFor(
          async () =>
            (await groupCaughtUp(deps.admin, groups.processor, [topics.workspaces, topics.jobs])) &&
            (await groupCaughtUp(deps.admin, groups.postgres, [topics.gold])) &&
            (await groupCaughtUp(deps.admin, groups.mongo, [topics.gold])) &&
            (await rows()) === expectedJobs &&
            (await docs()) === expectedJobs,
          { timeoutMs: 120_000, intervalMs: 500, what: `the current gold to hold ${expectedJobs} jobs` },
        );
      } finally {
        await postgres?.close();
        await producer.disconnect();
        for (const r of roles.reverse()) await r.close();
      }
    },
    async drop(admin: Admin, pool: pg.Pool, mongo: MongoClient) {
      await dropTopics(admin, Object.values(topics));
      // Random groups; one never created makes deleteGroups throw, and a leftover changes nothing.
      await admin.deleteGroups(Object.values(groups)).catch(() => {});
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      // absent when the test failed before the sink wrote: nothing to drop
      await mongo
        .db('tributary')
        .collection(collection)
        .drop()
        .catch(() => {});
    },
  };
}
