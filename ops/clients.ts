import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createKafka } from '../common/kafka.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createSchemaRegistry } from '../common/registry.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';

/**
 * The clients of one operator command, built in this one place. Kafka's admin is connected at once
 * (every command needs it); Postgres and MongoDB are opened on first use, so `tributary tail` never
 * needs a database. `close()` closes what was opened, once.
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
  const kafka = createKafka(infra.kafka, `tributary-ops-${command}-${process.pid}`, logger);
  const admin = kafka.admin();
  await admin.connect();
  let pool: pg.Pool | undefined;
  let mongo: Promise<MongoClient> | undefined;
  let closing: Promise<void> | undefined;
  return {
    infra,
    kafka,
    admin,
    logger,
    registry: createSchemaRegistry(infra.registry),
    pool() {
      pool ??= new pg.Pool({ connectionString: infra.postgres.url, max: 4 });
      return pool;
    },
    mongo() {
      mongo ??= (async () => {
        const client = new MongoClient(infra.mongo.url);
        await client.connect();
        return client;
      })();
      return mongo;
    },
    close() {
      closing ??= (async () => {
        await admin.disconnect().catch(() => {});
        await pool?.end().catch(() => {});
        if (mongo) await (await mongo.catch(() => undefined))?.close();
      })();
      return closing;
    },
  };
}
