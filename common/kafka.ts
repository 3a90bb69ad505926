import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaEndpoint } from '../infra/options.ts';

/**
 * The one place that builds kafkajs clients from the validated endpoint. Each process calls it once
 * per role (kafkajs clients are cheap; connections are made by producers/consumers/admins).
 */
export function createKafka(
  endpoint: KafkaEndpoint,
  clientId: string,
  overrides: { connectionTimeout?: number; retries?: number; logLevel?: logLevel } = {},
): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: endpoint.brokers,
    ssl: endpoint.ssl,
    sasl: endpoint.sasl as SASLOptions | undefined,
    connectionTimeout: overrides.connectionTimeout ?? 5000,
    logLevel: overrides.logLevel ?? logLevel.NOTHING,
    retry: { retries: overrides.retries ?? 8, initialRetryTime: 200, maxRetryTime: 5000 },
  };
  return new Kafka(config);
}
