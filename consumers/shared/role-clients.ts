import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Producer } from 'kafkajs';
import { createTopicLimits, type TopicLimits } from '../../common/kafka-limits.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import type { ClientFactory } from '../../runtime/clients.ts';

/**
 * The Kafka-side clients every consumer role of this folder needs, from the role's client factory:
 * a kafkajs client, the registry, and the factory's idempotent producer, shared by dead letters and
 * the metrics snapshots it starts publishing. The factory closes them after the role's close():
 * the publisher first (a last snapshot), then the producer.
 */
export interface RoleClients {
  kafka: Kafka;
  registry: SchemaRegistry;
  producer: Producer;
  /** max.message.bytes of the topics this role writes, read from the cluster once per topic */
  limits: TopicLimits;
}

export async function createRoleClients(
  clients: ClientFactory,
  opts: { metrics: RoleMetrics; metricsTopic: string; logger: Logger },
): Promise<RoleClients> {
  const kafka = clients.kafka();
  const producer = await clients.producer();
  await clients.publishMetrics({
    topic: opts.metricsTopic,
    metrics: [opts.metrics],
    onError: (err) => opts.logger.warn({ err }, 'cannot publish metrics'),
  });
  return { kafka, registry: clients.registry(), producer, limits: createTopicLimits({ kafka }) };
}
