import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { instanceId } from '../common/instance.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createClientFactory } from '../runtime/clients.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';

/**
 * The clients of one operator command, from the runtime's client factory (runtime/clients.ts), as
 * the roles get theirs. Kafka's admin is connected at once (every command needs it); Postgres and
 * MongoDB are opened on first use, so `tributary tail` never needs a database. `close()` closes
 * what was opened, once, logging what does not close.
 */
export interface OpsClients {
  infra: InfraOptions;
  kafka: Kafka;
  admin: Admin;
  registry: SchemaRegistry;
  /** kafkajs' lines and the readers' crash reports (warn and above) */
  logger: Logger;
  pool(): pg.Pool;
  mongo(): Promise<MongoClient>;
  close(): Promise<void>;
}

export async function openOpsClients(
  infra: InfraOptions,
  command: string,
  logger: Logger = createLogger(`tributary-${command}`, 'warn'),
): Promise<OpsClients> {
  const clients = createClientFactory({
    endpoints: infra,
    logger,
    instance: instanceId(),
    name: `ops-${command}`,
  });
  const admin = await clients.admin();
  let pool: pg.Pool | undefined;
  let mongo: Promise<MongoClient> | undefined;
  return {
    infra,
    kafka: clients.kafka(),
    admin,
    logger,
    registry: clients.registry(),
    pool() {
      pool ??= clients.postgres({ max: 4 });
      return pool;
    },
    mongo() {
      mongo ??= clients.mongo();
      return mongo;
    },
    close: () => clients.closeAll(),
  };
}
