import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logLevel } from 'kafkajs';
import { InfraError } from '../../common/errors.ts';
import { createKafka } from '../../common/kafka.ts';
import { createLogger } from '../../common/logger.ts';
import type { InfraOptions, KafkaNode } from '../../runtime/endpoints.ts';
import { run } from '../exec.ts';
import { createJavaService } from '../java-service.ts';
import { resolveJars } from '../maven.ts';
import type { Health, LocalService } from '../service.ts';
import type { Log } from '../toolchain.ts';
import { kafkaJvmFlags, kafkaNodeName, layoutProblem, serverProperties } from './kafka-config.ts';

/** Kafka 3.9.x (not 4.x: kafkajs is not known to work with 4.x), from Maven Central. */
export const KAFKA_BUNDLE = {
  name: 'kafka-3.9.1',
  dependencies: ['org.apache.kafka:kafka_2.13:3.9.1', 'org.slf4j:slf4j-reload4j:1.7.36'],
};

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
`;

/** The cluster as one metadata request through `brokers` sees it; throws when none answers. */
async function describeVia(brokers: string[]) {
  // A probe: "not answering" is its answer (returned as the DOWN reason), so kafkajs' own lines go
  // to a logger that prints them only with TRIBUTARY_LOG_LEVEL=debug; a crash inside kafkajs is
  // still logged there, and its error is what the probe returns.
  const logger = createLogger(
    'infra-health',
    process.env.TRIBUTARY_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
  );
  const admin = createKafka({ brokers, ssl: false }, 'tributary-infra-health', logger, {
    connectionTimeout: 2000,
    retries: 0,
    logLevel: logLevel.ERROR,
  }).admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {}); // a probe that never connected has nothing to close
  }
}

export async function kafkaHealth(brokers: string[]): Promise<Health> {
  try {
    const cluster = await describeVia(brokers);
    return { healthy: true, detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  }
}

/**
 * One local node's health, asked of that node alone: it answers, and the cluster's metadata lists
 * it (a node that is up but not registered, or fenced, does not count).
 */
export async function kafkaNodeHealth(node: KafkaNode, count: number): Promise<Health> {
  try {
    const cluster = await describeVia([`127.0.0.1:${node.port}`]);
    const listed = cluster.brokers.some((b) => b.nodeId === node.id);
    if (!listed)
      return { healthy: false, detail: `node ${node.id} answers but is not a broker of the cluster yet` };
    if (count === 1)
      return {
        healthy: true,
        detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}`,
      };
    return { healthy: true, detail: `node ${node.id}: ${cluster.brokers.length} of ${count} brokers up` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  }
}

/** The cluster the nodes of this data folder belong to, shared by every node's prepare. */
interface ClusterFiles {
  classpath: string;
  clusterId: string;
}

const MARKER = 'kafka-cluster.json';

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding. One that starts with '-'
 * is drawn again, as Kafka's own `Uuid.randomUuid` does: the storage tool's argument parser would
 * take `-t -xyz…` for an option and refuse to format (1 start in 64 failed that way).
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Checks that the data folder holds the layout asked for; the cluster id to format new nodes with. */
function clusterId(opts: InfraOptions): string {
  const count = opts.kafka.nodes.length;
  const markerFile = path.join(opts.dataDir, MARKER);
  const cluster = fs.existsSync(markerFile)
    ? (JSON.parse(fs.readFileSync(markerFile, 'utf8')) as { clusterId: string; nodes: number })
    : undefined;
  const singleFormatted = fs.existsSync(path.join(opts.dataDir, 'kafka', 'data', 'meta.properties'));
  const problem = layoutProblem(count, { singleFormatted, cluster });
  if (problem)
    throw new InfraError(problem, {
      fix: `set TRIBUTARY_KAFKA_NODES to match, or run 'tributary infra reset' (wipes ${opts.dataDir}) to start over`,
    });
  if (cluster) return cluster.clusterId;
  const id = newClusterId();
  // nodes of one cluster must be formatted with one id: it is kept next to their folders
  if (count > 1) fs.writeFileSync(markerFile, `${JSON.stringify({ clusterId: id, nodes: count })}\n`);
  return id;
}

/** One local service per node (TRIBUTARY_KAFKA_NODES), named by kafkaNodeName. */
export function createKafkaServices(opts: InfraOptions): LocalService[] {
  let shared: Promise<ClusterFiles> | undefined;
  const prepareCluster = (log: Log) => {
    shared ??= (async () => {
      const classpath = path.join(await resolveJars(opts.cacheDir, KAFKA_BUNDLE, log), '*');
      fs.mkdirSync(opts.dataDir, { recursive: true });
      return { classpath, clusterId: clusterId(opts) };
    })();
    return shared;
  };
  return opts.kafka.nodes.map((node) => createNodeService(opts, node, prepareCluster));
}

function createNodeService(
  opts: InfraOptions,
  node: KafkaNode,
  prepareCluster: (log: Log) => Promise<ClusterFiles>,
): LocalService {
  const count = opts.kafka.nodes.length;
  const name = kafkaNodeName(node, count);
  const dir = path.join(opts.dataDir, name);
  const logDir = path.join(dir, 'data');
  const propsFile = path.join(dir, 'server.properties');
  const log4jFile = path.join(dir, 'log4j.properties');
  const moved = node.id === 1 ? '' : ` (node ${node.id} uses it + ${2 * (node.id - 1)})`;

  return createJavaService({
    name,
    endpoint: `127.0.0.1:${node.port}`,
    port: node.port,
    ports: [
      { port: node.port, envVar: `TRIBUTARY_KAFKA_PORT${moved}` },
      { port: node.controllerPort, envVar: `TRIBUTARY_KAFKA_PORT (the controller uses port + 1)${moved}` },
    ],
    dataDir: opts.dataDir,
    // a cluster's nodes are ready only once a quorum of controllers has elected a leader
    readyTimeoutMs: count === 1 ? 90_000 : 150_000,
    stopGraceMs: 60_000,
    health: () => kafkaNodeHealth(node, count),
    async prepare(log, java) {
      const { classpath, clusterId } = await prepareCluster(log);
      fs.mkdirSync(logDir, { recursive: true });
      fs.writeFileSync(propsFile, serverProperties(opts, node, logDir));
      fs.writeFileSync(log4jFile, LOG4J);
      const common = [`-Dlog4j.configuration=file:${log4jFile}`, '-cp', classpath];
      if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
        log(`${name}: formatting storage (cluster ${clusterId})`);
        const r = await run(java, [
          ...common,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          propsFile,
        ]);
        if (r.code !== 0)
          throw new InfraError(
            `${name} storage format failed:\n${(r.stdout + r.stderr).trim().slice(-2000)}`,
          );
      }
      return [...kafkaJvmFlags(count), ...common, 'kafka.Kafka', propsFile];
    },
  });
}
