import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import {
  ConsumerEnvProperties,
  type ConsumerTiming,
  consumerTiming,
  defaultTopic,
  parseSubset,
} from '../shared/options.ts';

export const GOLD_SINK_NAMES = ['postgres', 'mongo'] as const;
export type GoldSinkName = (typeof GOLD_SINK_NAMES)[number];

export const GoldSinksEnv = Type.Object({
  ...ConsumerEnvProperties,
  TRIBUTARY_GOLD_TOPIC: Type.String({
    minLength: 1,
    default: defaultTopic('gold.enrichment-jobs'),
    description: 'the gold topic, e.g. gold.enrichment-jobs',
  }),
  TRIBUTARY_GOLD_POSTGRES_GROUP: Type.String({
    minLength: 1,
    default: 'tributary.gold.postgres',
    description: 'the consumer group id of the Postgres gold sink',
  }),
  TRIBUTARY_GOLD_MONGO_GROUP: Type.String({
    minLength: 1,
    default: 'tributary.gold.mongo',
    description: 'the consumer group id of the MongoDB gold sink',
  }),
  TRIBUTARY_GOLD_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 1000,
    description: 'the most gold records written per database call (1-10000)',
  }),
  TRIBUTARY_GOLD_MONGO_DATABASE: Type.String({
    minLength: 1,
    default: 'tributary',
    description: 'the MongoDB database of the gold collection',
  }),
  TRIBUTARY_GOLD_MONGO_COLLECTION: Type.String({
    minLength: 1,
    default: 'enrichment_jobs',
    description: 'the MongoDB collection of gold documents',
  }),
  TRIBUTARY_GOLD_SINKS: Type.String({
    default: GOLD_SINK_NAMES.join(','),
    description: `a comma-separated subset of ${GOLD_SINK_NAMES.join(',')} (the sinks consumers/gold-sinks/process.ts runs)`,
  }),
});

export interface GoldSinksOptions {
  topic: string;
  groupIds: Record<GoldSinkName, string>;
  batchSize: number;
  mongo: { database: string; collection: string };
  /** the sinks the standalone process runs */
  sinks: GoldSinkName[];
  timing: ConsumerTiming;
  metricsTopic: string;
}

export function goldSinksOptions(env: NodeJS.ProcessEnv): GoldSinksOptions {
  const e: Static<typeof GoldSinksEnv> = readEnv(GoldSinksEnv, env);
  return {
    topic: e.TRIBUTARY_GOLD_TOPIC,
    groupIds: { postgres: e.TRIBUTARY_GOLD_POSTGRES_GROUP, mongo: e.TRIBUTARY_GOLD_MONGO_GROUP },
    batchSize: e.TRIBUTARY_GOLD_BATCH_SIZE,
    mongo: { database: e.TRIBUTARY_GOLD_MONGO_DATABASE, collection: e.TRIBUTARY_GOLD_MONGO_COLLECTION },
    sinks: parseSubset('TRIBUTARY_GOLD_SINKS', e.TRIBUTARY_GOLD_SINKS, GOLD_SINK_NAMES),
    timing: consumerTiming(e),
    metricsTopic: e.TRIBUTARY_METRICS_TOPIC,
  };
}
