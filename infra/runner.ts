import fs from 'node:fs';
import path from 'node:path';
import { InfraError } from '../common/errors.ts';
import { createKafka } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import type { RetryEvent } from '../common/retry.ts';
import { maskUrl } from '../common/url.ts';
import { WaitTimeoutError, waitFor } from '../common/wait-for.ts';
/**
 * The local infrastructure runner behind `tributary infra up|down|status|reset|logs`, `npm start`
 * and the test suite. Servers configured as external are never started or stopped, only checked.
 */
import type { EndpointStatus, InfraOptions } from '../runtime/endpoints.ts';
import { warmCoordinators } from './coordinators.ts';
import { isAlive, readPid, stopPid } from './daemon.ts';
import { migrate } from './migrate.ts';
import type { Health, LocalService, ServiceName } from './service.ts';
import { createKafkaServices, kafkaHealth } from './services/kafka.ts';
import { createMongoService, mongoHealth } from './services/mongodb.ts';
import { createPostgresService, postgresFallbackRoot, postgresHealth } from './services/postgres.ts';
import { createRegistryService, registryHealth } from './services/registry.ts';
import type { Log } from './toolchain.ts';
import { ensureTopics } from './topics.ts';

export type { EndpointStatus };

export function localServices(opts: InfraOptions): LocalService[] {
  const all: Array<[boolean, () => LocalService | LocalService[]]> = [
    [opts.postgres.local, () => createPostgresService(opts)],
    [opts.kafka.local, () => createKafkaServices(opts)],
    [opts.registry.local, () => createRegistryService(opts)],
    [opts.mongo.local, () => createMongoService(opts)],
  ];
  return all.filter(([local]) => local).flatMap(([, make]) => make());
}

/** `kafka` (a single broker) or `kafka-<n>` (node n of a local cluster) */
export const isKafkaNode = (name: string) => name === 'kafka' || /^kafka-\d+$/.test(name);

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
  // Registry first (it holds Postgres connections), Postgres last; a cluster's nodes together.
  await byName(services, 'registry')?.stop(log);
  await byName(services, 'mongodb')?.stop(log);
  await Promise.all(services.filter((s) => isKafkaNode(s.name)).map((s) => s.stop(log)));
  if (opts.kafka.local) await stopStrayKafkaNodes(opts, log);
  await byName(services, 'postgres')?.stop(log);
}

/**
 * Kafka nodes of this data folder that the settings do not name (TRIBUTARY_KAFKA_NODES changed
 * while they ran): `down` stops what `up` started, whatever the setting says now.
 */
async function stopStrayKafkaNodes(opts: InfraOptions, log: Log): Promise<void> {
  const runDir = path.join(opts.dataDir, 'run');
  const known = new Set(localServices(opts).map((s) => `${s.name}.pid`));
  const files = fs.existsSync(runDir) ? fs.readdirSync(runDir) : [];
  const stray = files.filter((f) => isKafkaNode(f.replace(/\.pid$/, '')) && !known.has(f));
  // together: a KRaft node stopped alone waits for a quorum its stopped peers no longer form
  await Promise.all(
    stray.map(async (file) => {
      const pid = readPid(path.join(runDir, file));
      if (isAlive(pid)) {
        const name = file.replace(/\.pid$/, '');
        log(`${name}: stopping (not a node of TRIBUTARY_KAFKA_NODES=${opts.kafka.nodes.length})`);
        await stopPid(pid!, 60_000);
      }
      fs.rmSync(path.join(runDir, file), { force: true });
    }),
  );
}

/** One local server by name (e.g. `kafka-2`), for `infra up <server>` and the cluster test. */
export function localService(opts: InfraOptions, name: string): LocalService {
  const services = localServices(opts);
  const found = services.find((s) => s.name === name);
  if (!found)
    throw new InfraError(`there is no local server named ${JSON.stringify(name)}`, {
      fix: `name one of ${services.map((s) => s.name).join(', ')}`,
    });
  return found;
}

/** Starts one local server (idempotent), e.g. a Kafka node that was stopped or killed. */
export async function upOne(opts: InfraOptions, name: string, log: Log): Promise<EndpointStatus> {
  const service = localService(opts, name);
  await service.prepare(log);
  await service.start(log);
  const h = await service.health();
  const { endpoint, logFile } = service;
  return { name: service.name, endpoint, local: true, pid: service.pid(), ...h, log: logFile };
}

/** Stops one local server, e.g. one Kafka node of a cluster. */
export async function downOne(opts: InfraOptions, name: string, log: Log): Promise<void> {
  await localService(opts, name).stop(log);
}

/** What `infra status` shows as each server's endpoint: its URL with any password masked. */
export function statusEndpoints(
  opts: InfraOptions,
): Record<'postgres' | 'kafka' | 'registry' | 'mongodb', string> {
  return {
    postgres: maskUrl(opts.postgres.url),
    kafka: opts.kafka.brokers.join(','),
    registry: maskUrl(opts.registry.url),
    mongodb: maskUrl(opts.mongo.url),
  };
}

export async function status(opts: InfraOptions): Promise<EndpointStatus[]> {
  const services = localServices(opts);
  const external: Record<'postgres' | 'kafka' | 'registry' | 'mongodb', () => Promise<Health>> = {
    postgres: () => postgresHealth(opts.postgres.url),
    kafka: () => kafkaHealth(opts.kafka.brokers),
    registry: () => registryHealth(opts.registry.url),
    mongodb: () => mongoHealth(opts.mongo.url),
  };
  const endpoints = statusEndpoints(opts);
  // one row per server, and one per node of a local Kafka cluster
  const rows: Array<{
    name: ServiceName;
    endpoint: string;
    local?: LocalService;
    probe: () => Promise<Health>;
  }> = [];
  for (const name of ['kafka', 'registry', 'postgres', 'mongodb'] as const) {
    const locals = services.filter((s) => (name === 'kafka' ? isKafkaNode(s.name) : s.name === name));
    if (locals.length === 0) rows.push({ name, endpoint: endpoints[name], probe: external[name] });
    for (const local of locals)
      rows.push({
        name: local.name,
        endpoint: name === 'kafka' ? local.endpoint : endpoints[name],
        local,
        probe: () => local.health(),
      });
  }
  return Promise.all(
    rows.map(async ({ name, endpoint, local, probe }) => {
      const h = await probe();
      return {
        name,
        endpoint,
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
