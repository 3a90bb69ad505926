import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
  type Admin,
  type Consumer,
  type ConsumerConfig,
  type Kafka,
  Partitioners,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { describeError } from '../common/errors.ts';
import { instanceId } from '../common/instance.ts';
import { createKafka } from '../common/kafka.ts';
import type { Logger } from '../common/logger.ts';
import { type RoleMetrics, startMetricsPublisher } from '../common/metrics.ts';
import { createSchemaRegistry } from '../common/registry.ts';
import type { InfraOptions } from './endpoints.ts';

/**
 * The one place a role (or an operator command) builds its connections: Kafka producers, consumers
 * and admins, the schema registry, Postgres pools and MongoDB clients. The factory records what it
 * opened, and `closeAll()` closes each once, in reverse order (what was opened last may use what
 * was opened before it: a metrics publisher its producer), logging each close that fails and
 * carrying on with the others. The runtime gives each start of a role a fresh factory and calls
 * `closeAll()` after the role's own `close()` has finished its batch in flight and committed.
 */
export interface ClientFactory {
  readonly endpoints: InfraOptions;
  /** this process's name (common/instance.ts), in every kafkajs client id */
  readonly instance: string;
  /**
   * The kafkajs client `tributary-<name>-<instance>` (no connection of its own: its producers,
   * consumers and admins have them). The same one for the same overrides.
   */
  kafka(overrides?: KafkaOverrides): Kafka;
  /**
   * A connected producer, closed by `closeAll()`. Without a config: the factory's one idempotent
   * producer (acks=all), shared by dead letters and metrics snapshots; with one, a new producer.
   */
  producer(config?: ProducerConfig, kafka?: Kafka): Promise<Producer>;
  /** a consumer (not connected yet); `closeAll()` disconnects it unless it was disconnected before */
  consumer(config: ConsumerConfig, kafka?: Kafka): Consumer;
  /** a connected admin client */
  admin(kafka?: Kafka): Promise<Admin>;
  /** the schema-registry client (HTTP, nothing to close); one per factory */
  registry(): SchemaRegistry;
  /** a new Postgres pool (at the endpoints' URL unless `url` is given); idle-connection errors logged */
  postgres(config?: Omit<pg.PoolConfig, 'connectionString'> & { url?: string }): pg.Pool;
  /** a connected MongoDB client (at the endpoints' URL unless `url` is given) */
  mongo(url?: string): Promise<MongoClient>;
  /** records a client built elsewhere (a read-only pool, a store), so that `closeAll()` closes it */
  track<T>(what: string, client: T, close: (client: T) => Promise<unknown>): T;
  /**
   * Publishes snapshots of `metrics` to `topic` about once a second on the shared producer; the
   * last one is sent at `closeAll()`. Does nothing when the factory was made with
   * `publishMetrics: false`.
   */
  publishMetrics(opts: {
    topic: string;
    metrics: RoleMetrics[];
    onError?: (err: unknown) => void;
  }): Promise<void>;
  /** closes everything opened, once, last opened first; resolves when every close has settled */
  closeAll(): Promise<void>;
}

export interface KafkaOverrides {
  /** kafkajs' retries per request (8 by default; the gateway asks for few: its next tick tries again) */
  retries?: number;
}

export interface ClientFactoryOptions {
  endpoints: InfraOptions;
  logger: Logger;
  instance: string;
  /** names the kafkajs client: `tributary-<name>-<instance>` (a role's name, `ops-<command>`) */
  name: string;
  /** false: metrics stay in this process (a rebuild's shadow roles must not count as the pipeline's) */
  publishMetrics?: boolean;
}

interface Opened {
  what: string;
  close: () => Promise<unknown>;
}

export function createClientFactory(opts: ClientFactoryOptions): ClientFactory {
  const { endpoints, logger, instance } = opts;
  const opened: Opened[] = [];
  const kafkas = new Map<string, Kafka>();
  let registry: SchemaRegistry | undefined;
  let shared: Promise<Producer> | undefined;
  let closing: Promise<void> | undefined;

  function record(what: string, close: () => Promise<unknown>): Opened {
    if (closing) throw new Error(`cannot open ${what}: the ${opts.name} clients are closed`);
    const entry = { what, close };
    opened.push(entry);
    return entry;
  }
  function forget(entry: Opened): void {
    const i = opened.indexOf(entry);
    if (i >= 0) opened.splice(i, 1);
  }
  /** Connects a client recorded first, so that a connect that fails still closes what it began. */
  async function connected<T>(
    what: string,
    client: T & { connect(): Promise<unknown> },
    close: () => Promise<unknown>,
  ) {
    const entry = record(what, close);
    try {
      await client.connect();
    } catch (err) {
      forget(entry);
      await close().catch((e) =>
        logger.warn({ err: describeError(e) }, `${what} did not close after a failed connect`),
      );
      throw err;
    }
    return client;
  }

  const factory: ClientFactory = {
    endpoints,
    instance,
    kafka(overrides = {}) {
      const key = JSON.stringify(overrides);
      let kafka = kafkas.get(key);
      if (!kafka) {
        kafka = createKafka(endpoints.kafka, `tributary-${opts.name}-${instance}`, logger, overrides);
        kafkas.set(key, kafka);
      }
      return kafka;
    },
    producer(config, kafka) {
      if (config === undefined) {
        shared ??= factory.producer(
          // Idempotent: a retried send of a dead letter or a snapshot is not written twice.
          { idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner },
          kafka,
        );
        return shared;
      }
      const producer = (kafka ?? factory.kafka()).producer(config);
      return connected('producer', producer, () => producer.disconnect());
    },
    consumer(config, kafka = factory.kafka()) {
      const consumer = kafka.consumer(config);
      const entry = record(`consumer ${config.groupId}`, () => consumer.disconnect());
      // Consumers come and go (common/keep-running.ts replaces a crashed one): one that its owner
      // disconnected is no longer the factory's to close.
      consumer.on(consumer.events.DISCONNECT, () => forget(entry));
      return consumer;
    },
    admin(kafka = factory.kafka()) {
      const admin = kafka.admin();
      return connected('admin', admin, () => admin.disconnect());
    },
    registry() {
      registry ??= createSchemaRegistry(endpoints.registry);
      return registry;
    },
    postgres(config = {}) {
      const { url, ...rest } = config;
      const pool = new pg.Pool({ connectionString: url ?? endpoints.postgres.url, ...rest });
      pool.on('error', (err) => logger.warn({ err: describeError(err) }, 'idle Postgres connection failed'));
      record('postgres', () => pool.end());
      return pool;
    },
    mongo(url = endpoints.mongo.url) {
      const client = new MongoClient(url);
      return connected('mongodb', client, () => client.close());
    },
    track(what, client, close) {
      record(what, () => close(client));
      return client;
    },
    async publishMetrics({ topic, metrics, onError }) {
      if (opts.publishMetrics === false) return;
      const producer = await factory.producer();
      const publisher = startMetricsPublisher({
        producer,
        topic,
        metrics,
        onError:
          onError ?? ((err) => logger.warn({ err: describeError(err) }, 'metrics snapshot not published')),
      });
      record('metrics publisher', () => publisher.stop());
    },
    closeAll() {
      closing ??= (async () => {
        for (const { what, close } of opened.splice(0).reverse()) {
          try {
            await close();
          } catch (err) {
            // Logged, and the others still close: a broker that went away must not leave a pool open.
            logger.error({ err: describeError(err) }, `closing ${what} failed`);
          }
        }
      })();
      return closing;
    },
  };
  return factory;
}

/**
 * The clients of a component that runs as a role (given the role's factory) or by itself in a test
 * or a one-off process (given the endpoints): `own` is the factory it opened for itself, which it
 * must close; undefined when the role's runtime owns the clients.
 */
export function componentClients(
  deps: { clients: ClientFactory } | { infra: InfraOptions; env?: NodeJS.ProcessEnv },
  name: string,
  logger: Logger,
): { clients: ClientFactory; own: ClientFactory | undefined } {
  if ('clients' in deps) return { clients: deps.clients, own: undefined };
  const own = createClientFactory({ endpoints: deps.infra, logger, instance: instanceId(deps.env), name });
  return { clients: own, own };
}
