import { MongoClient } from 'mongodb';
import pg from 'pg';
import { clientId } from '../../common/instance.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import type { RoleContext, RoleDefinition, RunningRole } from '../../runtime/role.ts';
import { consumerConfig } from '../shared/consumer-config.ts';
import { createDeadLetterQueue } from '../shared/dead-letter.ts';
import { closeInOrder, once } from '../shared/lifecycle.ts';
import { createRoleClients } from '../shared/role-clients.ts';
import { assertTopicsExist } from '../shared/topics-check.ts';
import { createGoldConsumer } from './consumer.ts';
import { createMongoGoldSink, type GoldDocument } from './mongo-sink.ts';
import { type GoldSinkName, type GoldSinksOptions, goldSinksOptions } from './options.ts';
import { createPostgresGoldSink, type GoldSink } from './postgres-sink.ts';

/** A store the gold topic is written to: how to open it, and how to close it. */
interface SinkStore {
  sink: GoldSink;
  summary: string;
  close(): Promise<void>;
}

async function startGoldSink(
  sinkName: GoldSinkName,
  openStore: (ctx: RoleContext, options: GoldSinksOptions) => Promise<SinkStore>,
  ctx: RoleContext,
): Promise<RunningRole> {
  const { infra, env, logger, liveness } = ctx;
  const options = goldSinksOptions(env);
  const groupId = options.groupIds[sinkName];
  const metrics = createRoleMetrics(`gold-${sinkName}`);
  const clients = await createRoleClients({
    infra,
    clientId: clientId(`gold-${sinkName}`, env),
    metrics,
    metricsTopic: options.metricsTopic,
    logger,
  });
  let store: SinkStore;
  try {
    await assertTopicsExist(clients.kafka, [options.topic, options.dlqTopic]);
    store = await openStore(ctx, options);
  } catch (err) {
    await clients.close().catch((e) => logger.warn({ err: e }, 'closing after a failed start failed')); // the start error is rethrown
    throw err;
  }
  const consumer = createGoldConsumer({
    sinkName,
    createConsumer: () => clients.kafka.consumer(consumerConfig(groupId, options.timing)),
    groupId,
    liveness,
    registry: clients.registry,
    sink: store.sink,
    deadLetters: createDeadLetterQueue({ producer: clients.producer, groupId, limits: clients.limits }),
    metrics,
    logger,
    topic: options.topic,
    batchSize: options.batchSize,
  });
  const close = once(() =>
    closeInOrder(
      [
        // The consumer first: it finishes its chunk in flight (write, DLQ, commit) before leaving.
        ['consumer', () => consumer.close()],
        ['producer', () => clients.close()],
        [sinkName, () => store.close()],
      ],
      logger,
    ),
  );
  try {
    await consumer.start();
  } catch (err) {
    await close().catch((e) => logger.warn({ err: e }, 'closing after a failed start failed')); // the start error is rethrown
    throw err;
  }
  return { summary: `${options.topic} → ${store.summary} (group ${groupId})`, metrics: [metrics], close };
}

/** gold.enrichment-jobs → Postgres gold.enrichment_jobs, upserted with the rule of version.ts. */
export const goldPostgresRole: RoleDefinition = {
  name: 'gold-postgres',
  description:
    'upserts the gold topic into Postgres gold.enrichment_jobs (the latest record on the topic wins)',
  start: (ctx) =>
    startGoldSink(
      'postgres',
      async ({ infra, logger }, { table }) => {
        const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
        pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection failed'));
        return {
          sink: createPostgresGoldSink({ pool, table }),
          summary: table,
          close: () => pool.end(),
        };
      },
      ctx,
    ),
};

/** gold.enrichment-jobs → MongoDB <database>.<collection>: read the stored positions, decide, write by _id. */
export const goldMongoRole: RoleDefinition = {
  name: 'gold-mongo',
  description:
    'upserts the gold topic into MongoDB (the latest record on the topic wins), with the dashboard indexes',
  start: (ctx) =>
    startGoldSink(
      'mongo',
      async ({ infra, logger }, { mongo }) => {
        const client = new MongoClient(infra.mongo.url);
        try {
          await client.connect();
          const sink = createMongoGoldSink({
            collection: client.db(mongo.database).collection<GoldDocument>(mongo.collection),
            logger,
          });
          await sink.ensureIndexes();
          return { sink, summary: `${mongo.database}.${mongo.collection}`, close: () => client.close() };
        } catch (err) {
          await client.close().catch((e) => logger.warn({ err: e }, 'MongoDB client did not close')); // the open error is rethrown
          throw err;
        }
      },
      ctx,
    ),
};

export const GOLD_SINK_ROLES: Record<GoldSinkName, RoleDefinition> = {
  postgres: goldPostgresRole,
  mongo: goldMongoRole,
};
