import pg from 'pg';
import { clientId } from '../../common/instance.ts';
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
import { bronzeOptions } from './options.ts';

/**
 * Bronze: every raw record, as published, appended to Postgres. One consumer group per raw topic
 * (TRIBUTARY_BRONZE_TOPICS picks which ones this instance runs); scaled by running more instances.
 */
export const bronzeRole: RoleDefinition = {
  name: 'bronze',
  description: 'appends every raw record to the bronze tables in Postgres (dead-letters undecodable ones)',
  async start({ infra, env, logger, liveness }) {
    const options = bronzeOptions(env);
    const metrics = createRoleMetrics('bronze');
    const clients = await createRoleClients({
      infra,
      clientId: clientId('bronze', env),
      metrics,
      metricsTopic: options.metricsTopic,
      logger,
    });
    // One connection per partition handled at a time, plus one spare.
    const pool = new pg.Pool({
      connectionString: infra.postgres.url,
      max: options.topics.length * options.partitionsConcurrently + 1,
    });
    pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection failed'));
    const bronzeMetrics = createBronzeMetrics(metrics);
    const consumers: BatchConsumer[] = [];
    const close = once(() =>
      closeInOrder(
        [
          // Consumers first: each finishes its chunk in flight (database, DLQ, commit) before leaving.
          ['consumers', () => Promise.all(consumers.map((c) => c.close()))],
          ['producer', () => clients.close()],
          ['postgres', () => pool.end()],
        ],
        logger,
      ),
    );
    try {
      await assertTopicsExist(
        clients.kafka,
        options.topics.flatMap((t) => [t.topic, t.dlqTopic]),
      );
      for (const topic of options.topics) {
        const consumer = createBronzeConsumer({
          createConsumer: () =>
            clients.kafka.consumer(
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
