import { type Static, Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import { readTopology } from '../../contracts/topology.ts';

/**
 * Settings of the stream processor (the join of workspaces and jobs into gold); its topic and group
 * names come from the topology (contracts/topology.ts).
 */
export const ProcessorEnv = Type.Object({
  TRIBUTARY_PROCESSOR_INSTANCE: Type.String({
    default: 'processor-0',
    pattern: '^[A-Za-z0-9._-]+$',
    description:
      'a name per processor instance (letters, digits, . _ -); since per-task transactional ids it only names the id of older versions (<group>.<instance>), whose open transaction is aborted at start',
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
  const t = readTopology(env);
  return {
    groupId: t.groups.processor,
    legacyTransactionalId: `${t.groups.processor}.${e.TRIBUTARY_PROCESSOR_INSTANCE}`,
    topics: {
      workspaces: t.topics.rawWorkspaces,
      jobs: t.topics.rawJobs,
      gold: t.topics.gold,
      dlq: t.topics.goldDlq,
      state: t.topics.processorState,
      metrics: t.topics.metrics,
    },
    maxBytesPerPartition: e.TRIBUTARY_PROCESSOR_MAX_BYTES_PER_PARTITION,
    sessionTimeoutMs: e.TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS,
  };
}
