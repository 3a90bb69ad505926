import fs from 'node:fs';
import { createKafka } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { migrate } from './migrate.ts';
import type { InfraOptions } from './options.ts';
import type { Health, LocalService, ServiceName } from './service.ts';
import { createKafkaService, kafkaHealth } from './services/kafka.ts';
import { createMongoService, mongoHealth } from './services/mongodb.ts';
import { createPostgresService, postgresFallbackRoot, postgresHealth } from './services/postgres.ts';
import { createRegistryService, registryHealth } from './services/registry.ts';
import type { Log } from './toolchain.ts';
import { ensureTopics } from './topics.ts';

/**
 * The local infrastructure runner behind `tributary infra up|down|status|reset|logs`, `npm start`
 * and the test suite. Servers configured as external are never started or stopped, only checked.
 */
export interface EndpointStatus {
  name: ServiceName;
  endpoint: string;
  local: boolean;
  pid?: number;
  healthy: boolean;
  detail: string;
  log?: string;
}

export function localServices(opts: InfraOptions): LocalService[] {
  const all: Array<[boolean, () => LocalService]> = [
    [opts.postgres.local, () => createPostgresService(opts)],
    [opts.kafka.local, () => createKafkaService(opts)],
    [opts.registry.local, () => createRegistryService(opts)],
    [opts.mongo.local, () => createMongoService(opts)],
  ];
  return all.filter(([local]) => local).map(([, make]) => make());
}

const byName = (services: LocalService[], name: ServiceName) => services.find((s) => s.name === name);

/**
 * Brings every local server up (idempotent). Downloads and initialisation run in parallel; Postgres
 * starts before the registry, which stores its schemas there. Then migrations and topics.
 */
export async function up(opts: InfraOptions, log: Log): Promise<EndpointStatus[]> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const services = localServices(opts);
  await Promise.all(services.map((s) => s.prepare(log)));
  const postgres = byName(services, 'postgres');
  const registry = byName(services, 'registry');
  await Promise.all([
    (async () => {
      await postgres?.start(log);
      await registry?.start(log);
    })(),
    ...services.filter((s) => s !== postgres && s !== registry).map((s) => s.start(log)),
  ]);
  await migrate(opts.postgres.url, log);
  const admin = createKafka(opts.kafka, 'tributary-infra', createLogger('infra', 'warn')).admin();
  try {
    await admin.connect();
    const created = await ensureTopics(admin, opts.topicPartitions);
    if (created.length > 0) log(`kafka: created topics ${created.join(', ')}`);
  } finally {
    await admin.disconnect();
  }
  return status(opts);
}

export async function down(opts: InfraOptions, log: Log): Promise<void> {
  const services = localServices(opts);
  // Registry first (it holds Postgres connections), Postgres last.
  const order: ServiceName[] = ['registry', 'mongodb', 'kafka', 'postgres'];
  for (const name of order) await byName(services, name)?.stop(log);
}

export async function status(opts: InfraOptions): Promise<EndpointStatus[]> {
  const services = localServices(opts);
  const external: Record<ServiceName, () => Promise<Health>> = {
    postgres: () => postgresHealth(opts.postgres.url),
    kafka: () => kafkaHealth(opts.kafka.brokers),
    registry: () => registryHealth(opts.registry.url),
    mongodb: () => mongoHealth(opts.mongo.url),
  };
  const endpoints: Record<ServiceName, string> = {
    postgres: opts.postgres.url.replace(/:[^:@/]*@/, ':***@'),
    kafka: opts.kafka.brokers.join(','),
    registry: opts.registry.url,
    mongodb: opts.mongo.url,
  };
  const names: ServiceName[] = ['kafka', 'registry', 'postgres', 'mongodb'];
  return Promise.all(
    names.map(async (name) => {
      const local = byName(services, name);
      const h = local ? await local.health() : await external[name]();
      return {
        name,
        endpoint: endpoints[name],
        local: local !== undefined,
        pid: local?.pid(),
        healthy: h.healthy,
        detail: h.detail,
        log: local?.logFile,
      };
    }),
  );
}

export async function reset(opts: InfraOptions, log: Log): Promise<void> {
  await down(opts, log);
  log(`removing ${opts.dataDir}`);
  fs.rmSync(opts.dataDir, { recursive: true, force: true });
  fs.rmSync(postgresFallbackRoot(opts.dataDir), { recursive: true, force: true });
}
