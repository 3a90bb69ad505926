import type { Admin, ITopicConfig } from 'kafkajs';
import { addPartitionsReady, createTopicsReady, type TopicLifecycleOptions } from '../common/topic-admin.ts';

/**
 * Every topic of the pipeline, declared once. Raw topics and the gold topic share a partition count
 * so that records keyed by workspace id are co-partitioned.
 */
export interface TopicSpec {
  name: string;
  /** 'data' topics use the configured partition count; 'single' ones one partition; a number is fixed */
  partitions: 'data' | 'single' | number;
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
    // One partition per polled API (producers/apis.ts, API_NAMES; producers/ownership.ts): the
    // pollers' consumer group assigns these partitions, so it decides which process polls which API.
    partitions: 2,
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'poller cursors, one partition per API, written in the same transaction as the records',
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
    numPartitions: t.partitions === 'data' ? partitions : t.partitions === 'single' ? 1 : t.partitions,
    replicationFactor: -1,
    configEntries: [
      { name: 'cleanup.policy', value: t.cleanup },
      ...(t.cleanup === 'delete' ? [{ name: 'retention.ms', value: String(t.retentionMs) }] : []),
    ],
  }));
}

/**
 * Creates the topics that do not exist yet and returns once all of them are usable: leaders elected
 * and answering (common/topic-admin.ts). Existing topics are left as they are, except that a topic
 * declared with a fixed partition count gets the partitions it lacks (the poller-state topic had
 * one before it had one per API). Returns the created names.
 */
export async function ensureTopics(
  admin: Admin,
  partitions: number,
  specs: readonly TopicSpec[] = TOPICS,
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  const created = await createTopicsReady(admin, topicConfigs(partitions, specs), opts);
  const fixed = specs.flatMap((t) =>
    typeof t.partitions === 'number' ? [{ topic: t.name, count: t.partitions }] : [],
  );
  await addPartitionsReady(admin, fixed, opts);
  return created;
}
