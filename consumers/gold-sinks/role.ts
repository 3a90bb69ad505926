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

/** A gold sink role's options (the Postgres table among them, so rebuild-gold can name its shadow table). */
export type GoldSinkRoleOptions = GoldSinksOptions;
const goldSinkRoleOptions = goldSinksOptions;

/** A store the gold topic is written to (opened with the role's clients, which close it). */
interface SinkStore {
  sink: GoldSink;
  summary: string;
}

async function startGoldSink(
  sinkName: GoldSinkName,
  openStore: (ctx: RoleContext, options: GoldSinkRoleOptions) => Promise<SinkStore>,
  ctx: RoleContext,
  options: GoldSinkRoleOptions,
): Promise<RunningRole> {
  const { logger, liveness } = ctx;
  const groupId = options.groupIds[sinkName];
  const metrics = createRoleMetrics(`gold-${sinkName}`);
  const clients = await createRoleClients(ctx.clients, {
    metrics,
    metricsTopic: options.metricsTopic,
    logger,
  });
  await assertTopicsExist(clients.kafka, [options.topic, options.dlqTopic]);
  const store = await openStore(ctx, options);
  const consumer = createGoldConsumer({
    sinkName,
    createConsumer: () => ctx.clients.consumer(consumerConfig(groupId, options.timing)),
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
  // The consumer only: it finishes its chunk in flight (write, DLQ, commit) before leaving; the
  // producer and the store's clients are closed after it, by the runtime (ctx.clients).
  const close = once(() => closeInOrder([['consumer', () => consumer.close()]], logger));
  try {
    await consumer.start();
  } catch (err) {
    await close().catch((e) => logger.warn({ err: e }, 'closing after a failed start failed')); // the start error is rethrown
    throw err;
  }
  return { summary: `${options.topic} → ${store.summary} (group ${groupId})`, metrics: [metrics], close };
}

/** gold.enrichment-jobs → Postgres gold.enrichment_jobs, upserted with the rule of version.ts. */
export const goldPostgresRole: RoleDefinition<GoldSinkRoleOptions> = {
  name: 'gold-postgres',
  description:
    'upserts the gold topic into Postgres gold.enrichment_jobs (the latest record on the topic wins)',
  options: goldSinkRoleOptions,
  start: (ctx, options) =>
    startGoldSink(
      'postgres',
      async ({ clients }, { table }) => ({
        sink: createPostgresGoldSink({ pool: clients.postgres({ max: 2 }), table }),
        summary: table,
      }),
      ctx,
      options,
    ),
};

/** gold.enrichment-jobs → MongoDB <database>.<collection>: read the stored positions, decide, write by _id. */
export const goldMongoRole: RoleDefinition<GoldSinkRoleOptions> = {
  name: 'gold-mongo',
  description:
    'upserts the gold topic into MongoDB (the latest record on the topic wins), with the dashboard indexes',
  options: goldSinkRoleOptions,
  start: (ctx, options) =>
    startGoldSink(
      'mongo',
      async ({ clients, logger }, { mongo }) => {
        const client = await clients.mongo();
        const sink = createMongoGoldSink({
          collection: client.db(mongo.database).collection<GoldDocument>(mongo.collection),
          logger,
        });
        await sink.ensureIndexes();
        return { sink, summary: `${mongo.database}.${mongo.collection}` };
      },
      ctx,
      options,
    ),
};

export const GOLD_SINK_ROLES: Record<GoldSinkName, RoleDefinition<GoldSinkRoleOptions>> = {
  postgres: goldPostgresRole,
  mongo: goldMongoRole,
};
