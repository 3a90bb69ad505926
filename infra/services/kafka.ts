import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logLevel } from 'kafkajs';
import { InfraError } from '../../common/errors.ts';
import { createKafka } from '../../common/kafka.ts';
import { silentLogger } from '../../common/logger.ts';
import { run } from '../exec.ts';
import { createJavaService } from '../java-service.ts';
import { resolveJars } from '../maven.ts';
import type { InfraOptions } from '../options.ts';
import type { Health, LocalService } from '../service.ts';

/** Kafka 3.9.x (not 4.x: kafkajs is not known to work with 4.x), from Maven Central. */
export const KAFKA_BUNDLE = {
  name: 'kafka-3.9.1',
  dependencies: ['org.apache.kafka:kafka_2.13:3.9.1', 'org.slf4j:slf4j-reload4j:1.7.36'],
};

/** One combined KRaft node (broker + controller) with single-replica internal topics. */
function serverProperties(opts: InfraOptions, logDir: string): string {
  const { port, controllerPort } = opts.kafka;
  return `# written by tributary infra; edits are overwritten at every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${logDir}
num.partitions=${opts.topicPartitions}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
`;
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
`;

export async function kafkaHealth(brokers: string[]): Promise<Health> {
  const admin = createKafka({ brokers, ssl: false }, 'tributary-infra-health', silentLogger(), {
    connectionTimeout: 2000,
    retries: 0,
    // a probe: "not answering" is its answer, not a problem to log
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return { healthy: true, detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export function createKafkaService(opts: InfraOptions): LocalService {
  const dir = path.join(opts.dataDir, 'kafka');
  const logDir = path.join(dir, 'data');
  const propsFile = path.join(dir, 'server.properties');
  const log4jFile = path.join(dir, 'log4j.properties');

  return createJavaService({
    name: 'kafka',
    endpoint: opts.kafka.brokers.join(','),
    port: opts.kafka.port,
    ports: [
      { port: opts.kafka.port, envVar: 'TRIBUTARY_KAFKA_PORT' },
      { port: opts.kafka.controllerPort, envVar: 'TRIBUTARY_KAFKA_PORT (the controller uses port + 1)' },
    ],
    dataDir: opts.dataDir,
    readyTimeoutMs: 90_000,
    stopGraceMs: 60_000,
    health: () => kafkaHealth(opts.kafka.brokers),
    async prepare(log, java) {
      const classpath = path.join(await resolveJars(opts.cacheDir, KAFKA_BUNDLE, log), '*');
      fs.mkdirSync(logDir, { recursive: true });
      fs.writeFileSync(propsFile, serverProperties(opts, logDir));
      fs.writeFileSync(log4jFile, LOG4J);
      const common = [`-Dlog4j.configuration=file:${log4jFile}`, '-cp', classpath];
      if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
        // A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
        const clusterId = randomBytes(16).toString('base64url');
        log(`kafka: formatting storage (cluster ${clusterId})`);
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
          throw new InfraError(`kafka storage format failed:\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
      }
      return [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        ...common,
        'kafka.Kafka',
        propsFile,
      ];
    },
  });
}
