import { createRoleMetrics } from '../../common/metrics.ts';
import type { RoleDefinition } from '../../runtime/role.ts';
import type { BatchConsumer } from '../shared/batch-consumer.ts';
import { consumerConfig } from '../shared/consumer-config.ts';
import { createDeadLetterQueue } from '../shared/dead-letter.ts';
import { closeInOrder, once } from '../shared/lifecycle.ts';
import { createRoleClients } from '../shared/role-clients.ts';
import { assertTopicsExist } from '../shared/topics-check.ts';
import { createBronzeConsumer } from './consumer.ts';
import { createBronzeMetrics } from './ingest.ts';
import { type BronzeOptions, bronzeOptions } from './options.ts';

/**
 * Bronze: every raw record, as published, appended to Postgres. One consumer group per raw topic
 * (TRIBUTARY_BRONZE_TOPICS picks which ones this instance runs); scaled by running more instances.
 */
export const bronzeRole: RoleDefinition<BronzeOptions> = {
  name: 'bronze',
  description: 'appends every raw record to the bronze tables in Postgres (dead-letters undecodable ones)',
  options: bronzeOptions,
  async start(ctx, options) {
    const { logger, liveness } = ctx;
    const metrics = createRoleMetrics('bronze');
    const clients = await createRoleClients(ctx.clients, {
      metrics,
      metricsTopic: options.metricsTopic,
      logger,
    });
    // One connection per partition handled at a time, plus one spare.
    const pool = ctx.clients.postgres({ max: options.topics.length * options.partitionsConcurrently + 1 });
    const bronzeMetrics = createBronzeMetrics(metrics);
    const consumers: BatchConsumer[] = [];
    // Consumers only: each finishes its chunk in flight (database, DLQ, commit) before leaving; the
    // producer and the pool are closed after them, by the runtime (ctx.clients).
    const close = once(() =>
      closeInOrder([['consumers', () => Promise.all(consumers.map((c) => c.close()))]], logger),
    );
    try {
      await assertTopicsExist(
        clients.kafka,
        options.topics.flatMap((t) => [t.topic, t.dlqTopic]),
      );
      for (const topic of options.topics) {
        const consumer = createBronzeConsumer({
          createConsumer: () =>
            ctx.clients.consumer(
              consumerConfig(topic.groupId, options.timing, {
                maxBytesPerPartition: options.maxBytesPerPartition,
              }),
            ),
          registry: clients.registry,
          pool,
          deadLetters: createDeadLetterQueue({
            producer: clients.producer,
            groupId: topic.groupId,
            limits: clients.limits,
          }),
          metrics: bronzeMetrics,
          logger,
          topic,
          options,
          liveness,
        });
        consumers.push(consumer);
        await consumer.start();
      }
    } catch (err) {
      await close().catch((e) => logger.warn({ err: e }, 'closing after a failed start failed')); // the start error is rethrown below
      throw err;
    }
    return {
      summary: options.topics.map((t) => `${t.topic} → bronze (group ${t.groupId})`).join(', '),
      metrics: [metrics],
      close,
    };
  },
};
