import fs from 'node:fs';
import { createKafka } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import type { RetryEvent } from '../common/retry.ts';
import { maskUrl } from '../common/url.ts';
import { WaitTimeoutError, waitFor } from '../common/wait-for.ts';
import { warmCoordinators } from './coordinators.ts';
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
  const kafka = createKafka(opts.kafka, 'tributary-infra', createLogger('infra', 'warn'));
  const admin = kafka.admin();
  try {
    await admin.connect();
    const waiting = {
      onRetry: ({ attempt, error }: RetryEvent) => {
        if (attempt >= 3) log(`kafka: topics not usable yet (${(error as Error).message}), waiting`);
      },
    };
    // Returns once every topic has a leader that answers, so roles started right after can use them.
    const created = await ensureTopics(admin, opts.topicPartitions, undefined, waiting);
    if (created.length > 0) log(`kafka: created topics ${created.join(', ')}`);
    if (opts.kafka.local) await warmCoordinators(kafka, admin, waiting);
  } finally {
    await admin.disconnect();
  }
  return settledStatus(opts);
}

/**
 * The status after `up`, where every server has just answered its readiness check: a probe that
 * times out now (its timeout is 2 s, and a loaded machine can be slower) is asked again for a while
 * before the server is reported unhealthy.
 */
async function settledStatus(opts: InfraOptions, timeoutMs = 30_000): Promise<EndpointStatus[]> {
  let rows = await status(opts);
  if (rows.every((r) => r.healthy)) return rows;
  try {
    return await waitFor(
      async () => {
        rows = await status(opts);
        return rows.every((r) => r.healthy) ? rows : undefined;
      },
      { timeoutMs, intervalMs: 1000, what: 'every server to answer its health check' },
    );
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    return rows; // still unhealthy after the grace period: reported as such by the caller
  }
}

export async function down(opts: InfraOptions, log: Log): Promise<void> {
  const services = localServices(opts);
  // Registry first (it holds Postgres connections), Postgres last.
  const order: ServiceName[] = ['registry', 'mongodb', 'kafka', 'postgres'];
  for (const name of order) await byName(services, name)?.stop(log);
}

/** What `infra status` shows as each server's endpoint: its URL with any password masked. */
export function statusEndpoints(opts: InfraOptions): Record<ServiceName, string> {
  return {
    postgres: maskUrl(opts.postgres.url),
    kafka: opts.kafka.brokers.join(','),
    registry: maskUrl(opts.registry.url),
    mongodb: maskUrl(opts.mongo.url),
  };
}

export async function status(opts: InfraOptions): Promise<EndpointStatus[]> {
  const services = localServices(opts);
  const external: Record<ServiceName, () => Promise<Health>> = {
    postgres: () => postgresHealth(opts.postgres.url),
    kafka: () => kafkaHealth(opts.kafka.brokers),
    registry: () => registryHealth(opts.registry.url),
    mongodb: () => mongoHealth(opts.mongo.url),
  };
  const endpoints = statusEndpoints(opts);
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
