import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';

/** Settings of the stream processor (the join of workspaces and jobs into gold). */
export const ProcessorEnv = Type.Object({
  TRIBUTARY_PROCESSOR_GROUP: Type.String({
    default: 'tributary.processor',
    minLength: 1,
    description: 'a consumer group id',
  }),
  TRIBUTARY_PROCESSOR_INSTANCE: Type.String({
    default: 'processor-0',
    pattern: '^[A-Za-z0-9._-]+$',
    description:
      'a name per processor instance (letters, digits, . _ -); since per-task transactional ids it only names the id of older versions (<group>.<instance>), whose open transaction is aborted at start',
  }),
  TRIBUTARY_RAW_WORKSPACES_TOPIC: Type.String({
    default: 'raw.workspaces',
    minLength: 1,
    description: 'a topic name',
  }),
  TRIBUTARY_RAW_JOBS_TOPIC: Type.String({
    default: 'raw.enrichment-jobs',
    minLength: 1,
    description: 'a topic name',
  }),
  TRIBUTARY_GOLD_TOPIC: Type.String({
    default: 'gold.enrichment-jobs',
    minLength: 1,
    description: 'a topic name',
  }),
  TRIBUTARY_GOLD_DLQ_TOPIC: Type.String({
    default: 'dlq.gold.enrichment-jobs',
    minLength: 1,
    description: 'a topic name',
  }),
  TRIBUTARY_PROCESSOR_STATE_TOPIC: Type.String({
    default: '_tributary.processor-state',
    minLength: 1,
    description: 'a compacted topic with as many partitions as the raw topics',
  }),
  TRIBUTARY_METRICS_TOPIC: Type.String({
    default: '_tributary.metrics',
    minLength: 1,
    description: 'a topic name',
  }),
  TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: Type.Integer({
    default: 30_000,
    minimum: 6000,
    maximum: 300_000,
    description:
      'how long (ms, 6000-300000) the group waits for a silent instance before moving its partitions; lower recovers faster after a crash',
  }),
  TRIBUTARY_PROCESSOR_MAX_BYTES_PER_PARTITION: Type.Integer({
    default: 1_048_576,
    minimum: 1024,
    description: 'the most bytes fetched per partition and batch (bigger batches, bigger transactions)',
  }),
});

export interface ProcessorOptions {
  groupId: string;
  /** `<group>.<instance>`, the transactional id before per-task producers (tasks.ts); aborted at start */
  legacyTransactionalId: string;
  topics: { workspaces: string; jobs: string; gold: string; dlq: string; state: string; metrics: string };
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
}

export function processorOptions(env: NodeJS.ProcessEnv): ProcessorOptions {
  const e: Static<typeof ProcessorEnv> = readEnv(ProcessorEnv, env);
  return {
    groupId: e.TRIBUTARY_PROCESSOR_GROUP,
    legacyTransactionalId: `${e.TRIBUTARY_PROCESSOR_GROUP}.${e.TRIBUTARY_PROCESSOR_INSTANCE}`,
    topics: {
      workspaces: e.TRIBUTARY_RAW_WORKSPACES_TOPIC,
      jobs: e.TRIBUTARY_RAW_JOBS_TOPIC,
      gold: e.TRIBUTARY_GOLD_TOPIC,
      dlq: e.TRIBUTARY_GOLD_DLQ_TOPIC,
      state: e.TRIBUTARY_PROCESSOR_STATE_TOPIC,
      metrics: e.TRIBUTARY_METRICS_TOPIC,
    },
    maxBytesPerPartition: e.TRIBUTARY_PROCESSOR_MAX_BYTES_PER_PARTITION,
    sessionTimeoutMs: e.TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS,
  };
}
