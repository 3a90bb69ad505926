import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { ConfigError } from '../common/errors.ts';
import { type DlqFormat, dlqTopicOf, TOPIC_DECLARATIONS, type TopicKey, type TopicSpec } from './topics.ts';

export {
  type DlqFormat,
  dlqTopicOf,
  TOPIC_DECLARATIONS,
  TOPICS,
  type TopicKey,
  type TopicSpec,
  topicConfigs,
} from './topics.ts';

/**
 * The pipeline's topology: every topic, consumer group, gold table and collection name, read from
 * the environment once (`readTopology`). Every role's options.ts takes its names from here, so a
 * renamed topic reaches every stage (the pollers, bronze, the processor, the sinks, the gateway and
 * the operator commands) through one variable.
 */
const TopicName = (key: TopicKey, what: string) =>
  Type.String({
    default: TOPIC_DECLARATIONS[key].name,
    minLength: 1,
    maxLength: 249,
    pattern: '^[A-Za-z0-9._-]+$',
    description: `${what} (letters, digits, . _ -), e.g. ${TOPIC_DECLARATIONS[key].name}`,
  });

const GroupName = (def: string, what: string) =>
  Type.String({ default: def, minLength: 1, description: `${what}, e.g. ${def}` });

export const TopologyEnv = Type.Object({
  TRIBUTARY_RAW_WORKSPACES_TOPIC: TopicName('rawWorkspaces', 'the raw workspaces topic'),
  TRIBUTARY_RAW_JOBS_TOPIC: TopicName('rawJobs', 'the raw enrichment-jobs topic'),
  TRIBUTARY_DLQ_WORKSPACES_TOPIC: TopicName(
    'sourceDlqWorkspaces',
    'the pollers’ dead-letter topic of workspace API entries (JSON)',
  ),
  TRIBUTARY_DLQ_JOBS_TOPIC: TopicName(
    'sourceDlqJobs',
    'the pollers’ dead-letter topic of enrichment-job API entries (JSON)',
  ),
  TRIBUTARY_GOLD_TOPIC: TopicName('gold', 'the gold topic'),
  TRIBUTARY_GOLD_DLQ_TOPIC: TopicName('goldDlq', 'the processor’s dead-letter topic (raw job records, Avro)'),
  TRIBUTARY_POLLER_STATE_TOPIC: TopicName('pollerState', 'the compacted poller state topic'),
  TRIBUTARY_PROCESSOR_STATE_TOPIC: TopicName(
    'processorState',
    'the processor’s compacted changelog, with as many partitions as the raw topics',
  ),
  TRIBUTARY_METRICS_TOPIC: TopicName('metrics', 'the topic metrics snapshots are published to'),
  TRIBUTARY_WALKS_TOPIC: TopicName('walks', 'the topic of the pollers’ walk summaries (reconciliation)'),
  TRIBUTARY_BRONZE_WORKSPACES_GROUP: GroupName(
    'tributary.bronze.workspaces',
    'the consumer group of the workspaces bronze writer',
  ),
  TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: GroupName(
    'tributary.bronze.enrichment-jobs',
    'the consumer group of the enrichment-jobs bronze writer',
  ),
  TRIBUTARY_PROCESSOR_GROUP: GroupName('tributary.processor', 'the consumer group of the stream processor'),
  TRIBUTARY_GOLD_POSTGRES_GROUP: GroupName(
    'tributary.gold.postgres',
    'the consumer group of the Postgres gold sink',
  ),
  TRIBUTARY_GOLD_MONGO_GROUP: GroupName(
    'tributary.gold.mongo',
    'the consumer group of the MongoDB gold sink',
  ),
  TRIBUTARY_WALKS_GROUP: GroupName(
    'tributary.gateway.walks',
    'the gateway’s consumer group that stores walk summaries and bronze dead letters in ops.walks',
  ),
  TRIBUTARY_GATEWAY_LAG_GROUPS: Type.String({
    default: '',
    description:
      'a comma-separated list of the only consumer groups the gateway watches (empty: the groups above and every group named with TRIBUTARY_GATEWAY_LAG_GROUP_PREFIX)',
  }),
  TRIBUTARY_GATEWAY_LAG_GROUP_PREFIX: Type.String({
    default: 'tributary.',
    description: 'the prefix of the consumer groups watched when TRIBUTARY_GATEWAY_LAG_GROUPS is empty',
  }),
  TRIBUTARY_GOLD_TABLE: Type.String({
    default: 'gold.enrichment_jobs',
    pattern: '^[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*$',
    description:
      'the schema-qualified Postgres gold table the sink writes and the gateway and operator commands read, e.g. gold.enrichment_jobs',
  }),
  TRIBUTARY_GOLD_MONGO_DATABASE: Type.String({
    default: 'tributary',
    minLength: 1,
    description: 'the MongoDB database of the gold collection, e.g. tributary',
  }),
  TRIBUTARY_GOLD_MONGO_COLLECTION: Type.String({
    default: 'enrichment_jobs',
    minLength: 1,
    description: 'the MongoDB collection of gold documents, e.g. enrichment_jobs',
  }),
});
export type TopologyEnv = Static<typeof TopologyEnv>;

/**
 * Variables that named the same thing as a topology setting. Still setting one stops the process
 * (nobody's setting is silently ignored) and names what replaces it.
 */
export const REMOVED_TOPOLOGY_VARIABLES: Readonly<Record<string, string>> = {
  TRIBUTARY_OPS_GOLD_TABLE: 'TRIBUTARY_GOLD_TABLE',
  TRIBUTARY_GATEWAY_GOLD_TABLE: 'TRIBUTARY_GOLD_TABLE',
  TRIBUTARY_GATEWAY_RAW_TOPICS: 'TRIBUTARY_RAW_WORKSPACES_TOPIC and TRIBUTARY_RAW_JOBS_TOPIC',
  TRIBUTARY_GATEWAY_DLQ_TOPICS:
    'TRIBUTARY_DLQ_WORKSPACES_TOPIC, TRIBUTARY_DLQ_JOBS_TOPIC and TRIBUTARY_GOLD_DLQ_TOPIC (the consumers’ dlq.<topic> follow the raw and gold topic names)',
};

export interface Topology {
  topics: Record<TopicKey, string>;
  groups: {
    bronzeWorkspaces: string;
    bronzeJobs: string;
    processor: string;
    goldPostgres: string;
    goldMongo: string;
    /** the gateway's reconciliation per walk */
    walks: string;
  };
  /** the consumer groups whose lag the gateway watches */
  lag: { groups: string[]; groupPrefix: string };
  gold: { table: string; mongo: { database: string; collection: string } };
}

/** Reads the topology from the environment; a bad or removed variable stops with a ConfigError. */
export function readTopology(env: NodeJS.ProcessEnv): Topology {
  for (const [name, replacement] of Object.entries(REMOVED_TOPOLOGY_VARIABLES)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      throw new ConfigError(
        name,
        `is ${JSON.stringify(value)}, but it was removed: the pipeline's topology has one setting per name`,
        `unset ${name} and set ${replacement} instead`,
      );
    }
  }
  const e = readEnv(TopologyEnv, env);
  return {
    topics: {
      rawWorkspaces: e.TRIBUTARY_RAW_WORKSPACES_TOPIC,
      rawJobs: e.TRIBUTARY_RAW_JOBS_TOPIC,
      sourceDlqWorkspaces: e.TRIBUTARY_DLQ_WORKSPACES_TOPIC,
      sourceDlqJobs: e.TRIBUTARY_DLQ_JOBS_TOPIC,
      rawDlqWorkspaces: dlqTopicOf(e.TRIBUTARY_RAW_WORKSPACES_TOPIC),
      rawDlqJobs: dlqTopicOf(e.TRIBUTARY_RAW_JOBS_TOPIC),
      gold: e.TRIBUTARY_GOLD_TOPIC,
      goldDlq: e.TRIBUTARY_GOLD_DLQ_TOPIC,
      pollerState: e.TRIBUTARY_POLLER_STATE_TOPIC,
      processorState: e.TRIBUTARY_PROCESSOR_STATE_TOPIC,
      metrics: e.TRIBUTARY_METRICS_TOPIC,
      walks: e.TRIBUTARY_WALKS_TOPIC,
    },
    groups: {
      bronzeWorkspaces: e.TRIBUTARY_BRONZE_WORKSPACES_GROUP,
      bronzeJobs: e.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP,
      processor: e.TRIBUTARY_PROCESSOR_GROUP,
      goldPostgres: e.TRIBUTARY_GOLD_POSTGRES_GROUP,
      goldMongo: e.TRIBUTARY_GOLD_MONGO_GROUP,
      walks: e.TRIBUTARY_WALKS_GROUP,
    },
    lag: {
      groups: e.TRIBUTARY_GATEWAY_LAG_GROUPS.split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
      groupPrefix: e.TRIBUTARY_GATEWAY_LAG_GROUP_PREFIX,
    },
    gold: {
      table: e.TRIBUTARY_GOLD_TABLE,
      mongo: { database: e.TRIBUTARY_GOLD_MONGO_DATABASE, collection: e.TRIBUTARY_GOLD_MONGO_COLLECTION },
    },
  };
}

/** The gold sinks' dead-letter topic: `dlq.<gold topic>` (the processor's default is the same topic). */
export function goldSinkDlqTopic(t: Pick<Topology, 'topics'>): string {
  return dlqTopicOf(t.topics.gold);
}

/** Every topic of the pipeline under its configured name, with its declaration. */
export function topologyTopics(t: Pick<Topology, 'topics'>): TopicSpec[] {
  const specs = (Object.keys(TOPIC_DECLARATIONS) as TopicKey[]).map((key) => ({
    ...TOPIC_DECLARATIONS[key],
    name: t.topics[key],
  }));
  const sinkDlq = goldSinkDlqTopic(t);
  // a processor dead-letter topic renamed away from dlq.<gold> leaves the sinks' one to declare
  if (!specs.some((s) => s.name === sinkDlq)) specs.push({ ...TOPIC_DECLARATIONS.goldDlq, name: sinkDlq });
  return specs;
}

/** Every dead-letter topic the pipeline writes, sorted. */
export function dlqTopics(t: Pick<Topology, 'topics'>): string[] {
  return [...new Set(topologyTopics(t).flatMap((s) => (s.dlqFormat ? [s.name] : [])))].sort();
}

/** The value format of a dead-letter topic of this topology; undefined when it is not one. */
export function dlqFormatOf(t: Pick<Topology, 'topics'>, topic: string): DlqFormat | undefined {
  return topologyTopics(t).find((s) => s.name === topic)?.dlqFormat;
}
