import { Kafka, type KafkaConfig, type logLevel, type SASLOptions } from 'kafkajs';
import { KAFKAJS_LEVELS, type KafkaLogLevel, kafkaLogCreator } from './kafka-log.ts';
import type { Logger } from './logger.ts';

/** Where a Kafka cluster is and how to talk to it (validated from the environment in runtime/endpoints.ts). */
export interface KafkaEndpoint {
  brokers: string[];
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** which kafkajs log lines reach our logger (default warn) */
  logLevel?: KafkaLogLevel;
}

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
