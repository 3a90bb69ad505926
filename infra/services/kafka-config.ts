import type { InfraOptions, KafkaNode } from '../../runtime/endpoints.ts';
import type { ServiceName } from '../service.ts';

/**
 * The local Kafka's configuration, as pure functions of the options (unit-tested): one combined
 * KRaft node (broker + controller) per TRIBUTARY_KAFKA_NODES. With one node everything has one
 * replica; with three or more, every topic (the internal ones included) has three replicas and a
 * write needs two of them in sync, so the loss of any one node loses nothing acknowledged and
 * stops nothing.
 */
export interface ReplicationSettings {
  /** replicas of every topic: default.replication.factor and the internal topics' */
  replicationFactor: number;
  /** min.insync.replicas and transaction.state.log.min.isr */
  minInsyncReplicas: number;
}

export function replicationSettings(nodes: number): ReplicationSettings {
  const replicationFactor = Math.min(nodes, 3);
  // 2 of 3: a write survives the loss of the node that took it, and one node may be down
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/** A single node keeps the historical name `kafka` (its data folder and logs stay where they were). */
export function kafkaNodeName(node: KafkaNode, count: number): ServiceName {
  return count === 1 ? 'kafka' : `kafka-${node.id}`;
}

export function serverProperties(opts: InfraOptions, node: KafkaNode, logDir: string): string {
  const { nodes } = opts.kafka;
  const { replicationFactor: rf, minInsyncReplicas: isr } = replicationSettings(nodes.length);
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  return `# written by tributary infra; edits are overwritten at every start
process.roles=broker,controller
node.id=${node.id}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${logDir}
num.partitions=${opts.topicPartitions}
offsets.topic.replication.factor=${rf}
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=${rf}
transaction.state.log.min.isr=${isr}
transaction.state.log.num.partitions=10
min.insync.replicas=${isr}
default.replication.factor=${rf}
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
`;
}

/** The JVM flags of one node: three nodes share a small machine, so each heap is capped. */
export function kafkaJvmFlags(nodes: number): string[] {
  return [nodes === 1 ? '-Xms256m' : '-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true'];
}

/**
 * What the data folder holds, against what the settings ask for: a cluster's nodes must share one
 * cluster id and voter list, so changing the node count of a formatted instance needs a reset.
 * Returns the problem, or undefined when the layout fits.
 */
export function layoutProblem(
  wanted: number,
  found: { singleFormatted: boolean; cluster?: { nodes: number } },
): string | undefined {
  if (wanted === 1 && found.cluster)
    return `the data folder holds a ${found.cluster.nodes}-node Kafka cluster, TRIBUTARY_KAFKA_NODES asks for 1`;
  if (wanted > 1 && found.singleFormatted)
    return `the data folder holds a single-node Kafka, TRIBUTARY_KAFKA_NODES asks for ${wanted}`;
  if (wanted > 1 && found.cluster && found.cluster.nodes !== wanted)
    return `the data folder holds a ${found.cluster.nodes}-node Kafka cluster, TRIBUTARY_KAFKA_NODES asks for ${wanted}`;
  return undefined;
}
