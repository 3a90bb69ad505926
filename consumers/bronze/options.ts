import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import { readTopology } from '../../contracts/topology.ts';
import {
  ConsumerEnvProperties,
  type ConsumerTiming,
  consumerTiming,
  parseSubset,
} from '../shared/options.ts';
import { BRONZE_TOPIC_NAMES, type BronzeTopicName } from './tables.ts';

export const BronzeEnv = Type.Object({
  ...ConsumerEnvProperties,
  TRIBUTARY_BRONZE_TOPICS: Type.String({
    default: BRONZE_TOPIC_NAMES.join(','),
    description: `a comma-separated subset of ${BRONZE_TOPIC_NAMES.join(',')} (the raw topics this instance writes)`,
  }),
  TRIBUTARY_BRONZE_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 50_000,
    default: 5000,
    description: 'the most records written per database transaction (1-50000)',
  }),
  TRIBUTARY_BRONZE_MAX_BYTES_PER_PARTITION: Type.Integer({
    minimum: 16_384,
    maximum: 64 * 1024 * 1024,
    default: 2 * 1024 * 1024,
    description: 'the most bytes fetched per partition per request (16384-67108864)',
  }),
  TRIBUTARY_BRONZE_PARTITIONS_CONCURRENTLY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 2,
    description: 'how many partitions one writer handles at the same time (1-64)',
  }),
});

export interface BronzeTopicOptions {
  name: BronzeTopicName;
  topic: string;
  dlqTopic: string;
  groupId: string;
}

export interface BronzeOptions {
  /** the writers this instance runs, one consumer group each */
  topics: BronzeTopicOptions[];
  batchSize: number;
  maxBytesPerPartition: number;
  partitionsConcurrently: number;
  timing: ConsumerTiming;
  metricsTopic: string;
}

export function bronzeOptions(env: NodeJS.ProcessEnv): BronzeOptions {
  const e: Static<typeof BronzeEnv> = readEnv(BronzeEnv, env);
  const t = readTopology(env);
  const all: Record<BronzeTopicName, BronzeTopicOptions> = {
    workspaces: {
      name: 'workspaces',
      topic: t.topics.rawWorkspaces,
      dlqTopic: t.topics.rawDlqWorkspaces,
      groupId: t.groups.bronzeWorkspaces,
    },
    'enrichment-jobs': {
      name: 'enrichment-jobs',
      topic: t.topics.rawJobs,
      dlqTopic: t.topics.rawDlqJobs,
      groupId: t.groups.bronzeJobs,
    },
  };
  return {
    topics: parseSubset('TRIBUTARY_BRONZE_TOPICS', e.TRIBUTARY_BRONZE_TOPICS, BRONZE_TOPIC_NAMES).map(
      (n) => all[n],
    ),
    batchSize: e.TRIBUTARY_BRONZE_BATCH_SIZE,
    maxBytesPerPartition: e.TRIBUTARY_BRONZE_MAX_BYTES_PER_PARTITION,
    partitionsConcurrently: e.TRIBUTARY_BRONZE_PARTITIONS_CONCURRENTLY,
    timing: consumerTiming(e),
    metricsTopic: t.topics.metrics,
  };
}
