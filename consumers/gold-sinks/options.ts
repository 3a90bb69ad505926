import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import { goldSinkDlqTopic, readTopology } from '../../contracts/topology.ts';
import {
  ConsumerEnvProperties,
  type ConsumerTiming,
  consumerTiming,
  parseSubset,
} from '../shared/options.ts';

export const GOLD_SINK_NAMES = ['postgres', 'mongo'] as const;
export type GoldSinkName = (typeof GOLD_SINK_NAMES)[number];

export const GoldSinksEnv = Type.Object({
  ...ConsumerEnvProperties,
  TRIBUTARY_GOLD_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 1000,
    description: 'the most gold records written per database call (1-10000)',
  }),
  TRIBUTARY_GOLD_SINKS: Type.String({
    default: GOLD_SINK_NAMES.join(','),
    description: `a comma-separated subset of ${GOLD_SINK_NAMES.join(',')} (the sinks consumers/gold-sinks/process.ts runs)`,
  }),
});

export interface GoldSinksOptions {
  topic: string;
  /** where a sink sends gold records it cannot decode or store: dlq.<gold topic> */
  dlqTopic: string;
  groupIds: Record<GoldSinkName, string>;
  batchSize: number;
  /** the Postgres gold table, schema.name */
  table: string;
  mongo: { database: string; collection: string };
  /** the sinks the standalone process runs */
  sinks: GoldSinkName[];
  timing: ConsumerTiming;
  metricsTopic: string;
}

export function goldSinksOptions(env: NodeJS.ProcessEnv): GoldSinksOptions {
  const e: Static<typeof GoldSinksEnv> = readEnv(GoldSinksEnv, env);
  const t = readTopology(env);
  return {
    topic: t.topics.gold,
    dlqTopic: goldSinkDlqTopic(t),
    groupIds: { postgres: t.groups.goldPostgres, mongo: t.groups.goldMongo },
    batchSize: e.TRIBUTARY_GOLD_BATCH_SIZE,
    table: t.gold.table,
    mongo: t.gold.mongo,
    sinks: parseSubset('TRIBUTARY_GOLD_SINKS', e.TRIBUTARY_GOLD_SINKS, GOLD_SINK_NAMES),
    timing: consumerTiming(e),
    metricsTopic: t.topics.metrics,
  };
}
