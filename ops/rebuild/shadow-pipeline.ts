import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Kafka, Partitioners } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { createTopicLimits } from '../../common/kafka-limits.ts';
import type { Logger } from '../../common/logger.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import { createGoldConsumer } from '../../consumers/gold-sinks/consumer.ts';
import { createMongoGoldSink, type GoldDocument } from '../../consumers/gold-sinks/mongo-sink.ts';
import { goldSinksOptions } from '../../consumers/gold-sinks/options.ts';
import { createPostgresGoldSink } from '../../consumers/gold-sinks/postgres-sink.ts';
import { processorOptions } from '../../consumers/processor/options.ts';
import { createStreamProcessor } from '../../consumers/processor/processor.ts';
import type { BatchConsumer } from '../../consumers/shared/batch-consumer.ts';
import { consumerConfig } from '../../consumers/shared/consumer-config.ts';
import { createDeadLetterQueue } from '../../consumers/shared/dead-letter.ts';
import { closeInOrder } from '../../consumers/shared/lifecycle.ts';
import type { GoldTarget, ShadowNames } from './names.ts';

/**
 * The shadow pipeline of a rebuild, in this process: the real stream processor reading the raw
 * topics from the beginning into the shadow gold topic (with its own group, transactional id and
 * state topic), and the real gold consumers writing that topic to the shadow table and collection.
 * Settings come from the environment like the roles', with the names overridden.
 */
export interface ShadowPipeline {
  close(): Promise<void>;
}

export async function startShadowPipeline(
  deps: {
    kafka: Kafka;
    registry: SchemaRegistry;
    pool: pg.Pool;
    mongo: MongoClient;
    env: NodeJS.ProcessEnv;
    logger: Logger;
  },
  target: GoldTarget,
  names: ShadowNames,
): Promise<ShadowPipeline> {
  const { kafka, registry, logger } = deps;
  const metrics = createRoleMetrics('rebuild-gold');
  const processor = createStreamProcessor({
    kafka,
    registry,
    metrics,
    logger: logger.child({ shadow: 'processor' }),
    options: processorOptions({
      ...deps.env,
      TRIBUTARY_PROCESSOR_GROUP: names.processorGroup,
      TRIBUTARY_PROCESSOR_INSTANCE: names.processorInstance,
      TRIBUTARY_RAW_WORKSPACES_TOPIC: target.rawTopics.workspaces,
      TRIBUTARY_RAW_JOBS_TOPIC: target.rawTopics.jobs,
      TRIBUTARY_GOLD_TOPIC: names.goldTopic,
      TRIBUTARY_GOLD_DLQ_TOPIC: names.processorDlqTopic,
      TRIBUTARY_PROCESSOR_STATE_TOPIC: names.stateTopic,
    }),
  });
  const sinkOptions = goldSinksOptions({ ...deps.env, TRIBUTARY_GOLD_SINKS: undefined });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const limits = createTopicLimits({ kafka });
  const mongoSink = createMongoGoldSink({
    collection: deps.mongo.db(target.mongo.database).collection<GoldDocument>(names.collection),
  });
  const sinks: BatchConsumer[] = [
    createGoldConsumer({
      sinkName: 'postgres',
      createConsumer: () => kafka.consumer(consumerConfig(names.postgresGroup, sinkOptions.timing)),
      groupId: names.postgresGroup,
      registry,
      sink: createPostgresGoldSink({ pool: deps.pool, table: names.table }),
      deadLetters: createDeadLetterQueue({ producer, groupId: names.postgresGroup, limits }),
      metrics,
      logger: logger.child({ shadow: 'postgres' }),
      topic: names.goldTopic,
      batchSize: sinkOptions.batchSize,
    }),
    createGoldConsumer({
      sinkName: 'mongo',
      createConsumer: () => kafka.consumer(consumerConfig(names.mongoGroup, sinkOptions.timing)),
      groupId: names.mongoGroup,
      registry,
      sink: mongoSink,
      deadLetters: createDeadLetterQueue({ producer, groupId: names.mongoGroup, limits }),
      metrics,
      logger: logger.child({ shadow: 'mongo' }),
      topic: names.goldTopic,
      batchSize: sinkOptions.batchSize,
    }),
  ];
  const close = () =>
    closeInOrder(
      [
        ['shadow processor', () => processor.close()],
        ['shadow sinks', () => Promise.all(sinks.map((s) => s.close()))],
        ['shadow dead-letter producer', () => producer.disconnect()],
      ],
      logger,
    );
  try {
    await mongoSink.ensureIndexes();
    await producer.connect();
    await processor.start();
    for (const s of sinks) await s.start();
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  return { close };
}
