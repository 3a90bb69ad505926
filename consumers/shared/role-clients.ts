import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { createKafka } from '../../common/kafka.ts';
import { createTopicLimits, type TopicLimits } from '../../common/kafka-limits.ts';
import type { Logger } from '../../common/logger.ts';
import { type RoleMetrics, startMetricsPublisher } from '../../common/metrics.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';

/**
 * The Kafka-side clients every consumer role of this folder needs: a kafkajs client, the registry,
 * and one idempotent producer shared by dead letters and metrics snapshots. Built once per role
 * start; `close()` stops the metrics publisher (after a last snapshot) and disconnects the producer.
 */
export interface RoleClients {
  kafka: Kafka;
  registry: SchemaRegistry;
  producer: Producer;
  /** max.message.bytes of the topics this role writes, read from the cluster once per topic */
  limits: TopicLimits;
  close(): Promise<void>;
}

export async function createRoleClients(opts: {
  infra: InfraOptions;
  clientId: string;
  metrics: RoleMetrics;
  metricsTopic: string;
  logger: Logger;
}): Promise<RoleClients> {
  const kafka = createKafka(opts.infra.kafka, opts.clientId, opts.logger);
  const registry = createSchemaRegistry(opts.infra.registry);
  // Idempotent: a retried send of a dead letter does not write it twice.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const publisher = startMetricsPublisher({
    producer,
    topic: opts.metricsTopic,
    metrics: [opts.metrics],
    onError: (err) => opts.logger.warn({ err }, 'cannot publish metrics'),
  });
  return {
    kafka,
    registry,
    producer,
    limits: createTopicLimits({ kafka }),
    async close() {
      await publisher.stop();
      await producer.disconnect();
    },
  };
}
