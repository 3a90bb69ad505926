import { Kafka, type KafkaConfig, type logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaEndpoint } from '../infra/options.ts';
import { KAFKAJS_LEVELS, kafkaLogCreator } from './kafka-log.ts';
import type { Logger } from './logger.ts';

/**
 * The one place that builds kafkajs clients from the validated endpoint. Each process calls it once
 * per role (kafkajs clients are cheap; connections are made by producers/consumers/admins).
 * kafkajs' log lines go to `logger` from the endpoint's level up (TRIBUTARY_KAFKA_LOG_LEVEL, warn
 * by default), so a crash or a refused request always leaves a trace.
 */
export function createKafka(
  endpoint: KafkaEndpoint,
  clientId: string,
  logger: Logger,
  overrides: { connectionTimeout?: number; retries?: number; logLevel?: logLevel } = {},
): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: endpoint.brokers,
    ssl: endpoint.ssl,
    sasl: endpoint.sasl as SASLOptions | undefined,
    connectionTimeout: overrides.connectionTimeout ?? 5000,
    logLevel: overrides.logLevel ?? KAFKAJS_LEVELS[endpoint.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator(logger),
    retry: { retries: overrides.retries ?? 8, initialRetryTime: 200, maxRetryTime: 5000 },
  };
  return new Kafka(config);
}
