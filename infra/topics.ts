import type { Admin, ITopicConfig } from 'kafkajs';
import { createTopicsReady, type TopicLifecycleOptions } from '../common/topic-admin.ts';

/**
 * Every topic of the pipeline, declared once. Raw topics and the gold topic share a partition count
 * so that records keyed by workspace id are co-partitioned.
 */
export interface TopicSpec {
  name: string;
  /** 'data' topics use the configured partition count; 'single' ones one partition */
  partitions: 'data' | 'single';
  cleanup: 'delete' | 'compact';
  /** retention in ms for delete topics; -1 keeps forever */
  retentionMs: number;
  doc: string;
}

const WEEK = 7 * 24 * 3600 * 1000;

export const TOPICS: readonly TopicSpec[] = [
  {
    name: 'raw.workspaces',
    partitions: 'data',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'every workspace version polled',
  },
  {
    name: 'raw.enrichment-jobs',
    partitions: 'data',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'every job version polled',
  },
  {
    name: 'dlq.raw.workspaces',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'workspaces that failed validation or decoding',
  },
  {
    name: 'dlq.raw.enrichment-jobs',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'jobs that failed validation or decoding',
  },
  {
    name: 'gold.enrichment-jobs',
    partitions: 'data',
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'joined job + workspace, latest per job id',
  },
  {
    name: 'dlq.gold.enrichment-jobs',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'jobs that broke a business rule',
  },
  {
    name: '_tributary.poller-state',
    partitions: 'single',
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'poller cursors, written in the same transaction as the records',
  },
  {
    name: '_tributary.processor-state',
    partitions: 'data',
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'the stream processor join state (latest workspace and job per id), partition = input partition',
  },
  {
    name: '_tributary.metrics',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: WEEK / 7,
    doc: 'metrics snapshots published by every role',
  },
  {
    name: '_tributary.walks',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: WEEK,
    doc: 'one summary per poller walk (served, published, raw offsets), committed after its last page',
  },
];

export function topicConfigs(partitions: number, specs: readonly TopicSpec[] = TOPICS): ITopicConfig[] {
  return specs.map((t) => ({
    topic: t.name,
    numPartitions: t.partitions === 'data' ? partitions : 1,
    replicationFactor: -1,
    configEntries: [
      { name: 'cleanup.policy', value: t.cleanup },
      ...(t.cleanup === 'delete' ? [{ name: 'retention.ms', value: String(t.retentionMs) }] : []),
    ],
  }));
}

/**
 * Creates the topics that do not exist yet (existing ones are left as they are) and returns once all
 * of them are usable: leaders elected and answering (common/topic-admin.ts). Returns the created names.
 */
export async function ensureTopics(
  admin: Admin,
  partitions: number,
  specs: readonly TopicSpec[] = TOPICS,
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  return createTopicsReady(admin, topicConfigs(partitions, specs), opts);
}
