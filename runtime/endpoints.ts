import os from 'node:os';
import path from 'node:path';
import { type Static, Type } from 'typebox';
import { OptionalUrl, Port, readEnv } from '../common/env.ts';
import { ConfigError } from '../common/errors.ts';
import type { KafkaEndpoint } from '../common/kafka.ts';
import { KAFKA_LOG_LEVELS } from '../common/kafka-log.ts';
import type { RegistryEndpoint } from '../common/registry.ts';

export type { KafkaEndpoint } from '../common/kafka.ts';
export { KAFKA_LOG_LEVELS, type KafkaLogLevel } from '../common/kafka-log.ts';

/**
 * Where the pipeline's servers are. Each of the four `*_URL`/`BROKERS` settings, when set, points
 * Tributary at an external server and the local runner leaves that server alone; when unset, the
 * runner starts a private one on 127.0.0.1 at the given port (defaults chosen not to clash with a
 * system Kafka, Postgres or MongoDB).
 */

export const InfraEnv = Type.Object({
  TRIBUTARY_DATA_DIR: Type.String({
    default: '.tributary/dev',
    minLength: 1,
    description: 'a writable folder for local server data and logs, e.g. .tributary/dev',
  }),
  TRIBUTARY_CACHE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'a writable folder for downloaded jars (default ~/.cache/tributary)',
    }),
  ),
  TRIBUTARY_KAFKA_BROKERS: OptionalUrl('a comma-separated list of host:port of an external Kafka'),
  TRIBUTARY_KAFKA_SSL: Type.Boolean({ default: false, description: 'true or false' }),
  TRIBUTARY_KAFKA_SASL_MECHANISM: Type.Optional(
    Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], {
      description: 'plain, scram-sha-256 or scram-sha-512',
    }),
  ),
  TRIBUTARY_KAFKA_SASL_USERNAME: Type.Optional(Type.String({ description: 'the SASL user name' })),
  TRIBUTARY_KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ description: 'the SASL password' })),
  TRIBUTARY_KAFKA_LOG_LEVEL: Type.Union(
    KAFKA_LOG_LEVELS.map((l) => Type.Literal(l)),
    {
      default: 'warn',
      description:
        'the least severe kafkajs log line passed to the logs: nothing, error, warn, info or debug (info and debug are very chatty)',
    },
  ),
  TRIBUTARY_SCHEMA_REGISTRY_URL: OptionalUrl('the base URL of a Confluent-compatible schema registry'),
  TRIBUTARY_SCHEMA_REGISTRY_USERNAME: Type.Optional(Type.String({ description: 'the registry user name' })),
  TRIBUTARY_SCHEMA_REGISTRY_PASSWORD: Type.Optional(Type.String({ description: 'the registry password' })),
  TRIBUTARY_POSTGRES_URL: OptionalUrl('a postgres:// URL of an external database'),
  TRIBUTARY_MONGODB_URL: OptionalUrl('a mongodb:// URL of an external server'),
  TRIBUTARY_KAFKA_PORT: Port(
    19092,
    'a free TCP port for the local Kafka broker (its controller uses the next one; node n of a cluster uses port + 2(n-1) and the next one)',
  ),
  TRIBUTARY_KAFKA_NODES: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 5,
    description:
      'how many local Kafka nodes to run (1-5): 1 is a single broker, 3 a cluster with replication factor 3 and min.insync.replicas 2',
  }),
  TRIBUTARY_REGISTRY_PORT: Port(18081, 'a free TCP port for the local schema registry'),
  TRIBUTARY_POSTGRES_PORT: Port(15432, 'a free TCP port for the local PostgreSQL'),
  TRIBUTARY_MONGODB_PORT: Port(17017, 'a free TCP port for the local MongoDB-wire server'),
  TRIBUTARY_POSTGRES_PASSWORD: Type.String({
    default: 'tributary',
    minLength: 1,
    description: 'the password of the local Postgres user "tributary"',
  }),
  TRIBUTARY_TOPIC_PARTITIONS: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 3,
    description: 'the partition count of the raw and gold topics (1-64)',
  }),
});
export type InfraEnv = Static<typeof InfraEnv>;

/** One node of the local Kafka (a combined KRaft broker + controller). */
export interface KafkaNode {
  /** node.id, 1-based */
  id: number;
  port: number;
  controllerPort: number;
}

export interface InfraOptions {
  dataDir: string;
  cacheDir: string;
  topicPartitions: number;
  kafka: KafkaEndpoint & {
    local: boolean;
    /** node 1's ports (the single broker's when there is one node) */
    port: number;
    controllerPort: number;
    /** the local nodes (TRIBUTARY_KAFKA_NODES of them); ignored when TRIBUTARY_KAFKA_BROKERS is set */
    nodes: KafkaNode[];
  };
  registry: RegistryEndpoint & { local: boolean; port: number };
  postgres: { url: string; local: boolean; port: number; password: string };
  mongo: { url: string; local: boolean; port: number };
}

export function infraOptions(env: NodeJS.ProcessEnv = process.env): InfraOptions {
  const e = readEnv(InfraEnv, env);
  const dataDir = path.resolve(e.TRIBUTARY_DATA_DIR);
  const cacheDir = path.resolve(
    e.TRIBUTARY_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tributary'),
  );
  const sasl =
    e.TRIBUTARY_KAFKA_SASL_MECHANISM !== undefined
      ? {
          mechanism: e.TRIBUTARY_KAFKA_SASL_MECHANISM,
          username: e.TRIBUTARY_KAFKA_SASL_USERNAME ?? '',
          password: e.TRIBUTARY_KAFKA_SASL_PASSWORD ?? '',
        }
      : undefined;
  const pgUser = 'tributary';
  const nodes = kafkaNodes(e.TRIBUTARY_KAFKA_PORT, e.TRIBUTARY_KAFKA_NODES);
  if (nodes.at(-1)!.controllerPort > 65535)
    throw new ConfigError(
      'TRIBUTARY_KAFKA_PORT',
      `is ${e.TRIBUTARY_KAFKA_PORT}: ${nodes.length} Kafka nodes need ports up to ${nodes.at(-1)!.controllerPort}, past 65535`,
      `set TRIBUTARY_KAFKA_PORT to at most ${65535 - 2 * nodes.length + 1}`,
    );
  return {
    dataDir,
    cacheDir,
    topicPartitions: e.TRIBUTARY_TOPIC_PARTITIONS,
    kafka: {
      local: e.TRIBUTARY_KAFKA_BROKERS === undefined,
      // every client gets every local node: it must reach the cluster whichever node is down
      brokers: (e.TRIBUTARY_KAFKA_BROKERS ?? nodes.map((n) => `127.0.0.1:${n.port}`).join(','))
        .split(',')
        .map((b) => b.trim()),
      ssl: e.TRIBUTARY_KAFKA_SSL,
      sasl,
      logLevel: e.TRIBUTARY_KAFKA_LOG_LEVEL,
      port: e.TRIBUTARY_KAFKA_PORT,
      controllerPort: e.TRIBUTARY_KAFKA_PORT + 1,
      nodes,
    },
    registry: {
      local: e.TRIBUTARY_SCHEMA_REGISTRY_URL === undefined,
      url: e.TRIBUTARY_SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${e.TRIBUTARY_REGISTRY_PORT}/apis/ccompat/v7`,
      port: e.TRIBUTARY_REGISTRY_PORT,
      username: e.TRIBUTARY_SCHEMA_REGISTRY_USERNAME,
      password: e.TRIBUTARY_SCHEMA_REGISTRY_PASSWORD,
    },
    postgres: {
      local: e.TRIBUTARY_POSTGRES_URL === undefined,
      url:
        e.TRIBUTARY_POSTGRES_URL ??
        `postgres://${pgUser}:${encodeURIComponent(e.TRIBUTARY_POSTGRES_PASSWORD)}@127.0.0.1:${e.TRIBUTARY_POSTGRES_PORT}/tributary`,
      port: e.TRIBUTARY_POSTGRES_PORT,
      password: e.TRIBUTARY_POSTGRES_PASSWORD,
    },
    mongo: {
      local: e.TRIBUTARY_MONGODB_URL === undefined,
      url: e.TRIBUTARY_MONGODB_URL ?? `mongodb://127.0.0.1:${e.TRIBUTARY_MONGODB_PORT}/tributary`,
      port: e.TRIBUTARY_MONGODB_PORT,
    },
  };
}

/** Node n (1-based) listens on port + 2(n-1), its controller on the port after it. */
export function kafkaNodes(firstPort: number, count: number): KafkaNode[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    port: firstPort + 2 * i,
    controllerPort: firstPort + 2 * i + 1,
  }));
}

/** One server's state as `tributary infra status` and `tributary status` show it (infra/runner.ts checks it). */
export interface EndpointStatus {
  /** kafka (kafka-1…n for a local cluster), registry, postgres or mongodb */
  name: string;
  endpoint: string;
  local: boolean;
  pid?: number;
  healthy: boolean;
  detail: string;
  log?: string;
}
