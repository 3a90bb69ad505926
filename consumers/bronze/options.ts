import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import {
  ConsumerEnvProperties,
  type ConsumerTiming,
  consumerTiming,
  defaultTopic,
  dlqTopicOf,
  parseSubset,
} from '../shared/options.ts';
import { BRONZE_TOPIC_NAMES, type BronzeTopicName } from './tables.ts';

export const BronzeEnv = Type.Object({
  ...ConsumerEnvProperties,
  TRIBUTARY_BRONZE_TOPICS: Type.String({
    default: BRONZE_TOPIC_NAMES.join(','),
    description: `a comma-separated subset of ${BRONZE_TOPIC_NAMES.join(',')} (the raw topics this instance writes)`,
  }),
  TRIBUTARY_RAW_WORKSPACES_TOPIC: Type.String({
    minLength: 1,
    default: defaultTopic('raw.workspaces'),
    description: 'the topic of raw workspace versions, e.g. raw.workspaces',
  }),
  TRIBUTARY_RAW_JOBS_TOPIC: Type.String({
    minLength: 1,
    default: defaultTopic('raw.enrichment-jobs'),
    description: 'the topic of raw enrichment-job versions, e.g. raw.enrichment-jobs',
  }),
  TRIBUTARY_BRONZE_WORKSPACES_GROUP: Type.String({
    minLength: 1,
    default: 'tributary.bronze.workspaces',
    description: 'the consumer group id of the workspaces bronze writer',
  }),
  TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: Type.String({
    minLength: 1,
    default: 'tributary.bronze.enrichment-jobs',
    description: 'the consumer group id of the enrichment-jobs bronze writer',
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
  const all: Record<BronzeTopicName, Omit<BronzeTopicOptions, 'dlqTopic'>> = {
    workspaces: {
      name: 'workspaces',
      topic: e.TRIBUTARY_RAW_WORKSPACES_TOPIC,
      groupId: e.TRIBUTARY_BRONZE_WORKSPACES_GROUP,
    },
    'enrichment-jobs': {
      name: 'enrichment-jobs',
      topic: e.TRIBUTARY_RAW_JOBS_TOPIC,
      groupId: e.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP,
    },
  };
  return {
    topics: parseSubset('TRIBUTARY_BRONZE_TOPICS', e.TRIBUTARY_BRONZE_TOPICS, BRONZE_TOPIC_NAMES).map(
      (n) => ({
        ...all[n],
        dlqTopic: dlqTopicOf(all[n].topic),
      }),
    ),
    batchSize: e.TRIBUTARY_BRONZE_BATCH_SIZE,
    maxBytesPerPartition: e.TRIBUTARY_BRONZE_MAX_BYTES_PER_PARTITION,
    partitionsConcurrently: e.TRIBUTARY_BRONZE_PARTITIONS_CONCURRENTLY,
    timing: consumerTiming(e),
    metricsTopic: e.TRIBUTARY_METRICS_TOPIC,
  };
}
