import type { ITopicConfig } from 'kafkajs';

/**
 * Every topic of the pipeline, declared once with its default name. Raw topics, the gold topic and
 * the processor changelog share a partition count so that records keyed by workspace id are
 * co-partitioned. The names a process uses come from contracts/topology.ts (`readTopology`), which
 * lets each be renamed with an environment variable; the rest of a declaration never changes.
 */

/** The value format of a dead-letter topic: one per topic, so a tool can pick one deserializer. */
export type DlqFormat = 'json' | 'avro';

export interface TopicSpec {
  name: string;
  /** 'data' topics use the configured partition count; 'single' ones one partition; a number is fixed */
  partitions: 'data' | 'single' | number;
  cleanup: 'delete' | 'compact';
  /** retention in ms for delete topics; -1 keeps forever */
  retentionMs: number;
  doc: string;
  /** set on dead-letter topics only: what their record values are */
  dlqFormat?: DlqFormat;
}

/** The keys the topology names topics by (contracts/topology.ts `Topology['topics']`). */
export type TopicKey =
  | 'rawWorkspaces'
  | 'rawJobs'
  | 'sourceDlqWorkspaces'
  | 'sourceDlqJobs'
  | 'rawDlqWorkspaces'
  | 'rawDlqJobs'
  | 'gold'
  | 'goldDlq'
  | 'pollerState'
  | 'processorState'
  | 'metrics'
  | 'walks';

const WEEK = 7 * 24 * 3600 * 1000;

/**
 * The dead-letter topic of a consumed topic T: `dlq.T`, holding T's record bytes unchanged (Avro).
 * The pollers' dead letters are not of a topic (they are API entries): they go to `dlq.source.*`.
 */
export function dlqTopicOf(topic: string): string {
  return `dlq.${topic}`;
}

export const TOPIC_DECLARATIONS: Readonly<Record<TopicKey, TopicSpec>> = {
  rawWorkspaces: {
    name: 'raw.workspaces',
    partitions: 'data',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'every workspace version polled',
  },
  rawJobs: {
    name: 'raw.enrichment-jobs',
    partitions: 'data',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'every job version polled',
  },
  sourceDlqWorkspaces: {
    name: 'dlq.source.workspaces',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'workspace entries of the source API that failed validation (the API entry as JSON)',
    dlqFormat: 'json',
  },
  sourceDlqJobs: {
    name: 'dlq.source.enrichment-jobs',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'job entries of the source API that failed validation (the API entry as JSON)',
    dlqFormat: 'json',
  },
  rawDlqWorkspaces: {
    name: dlqTopicOf('raw.workspaces'),
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'raw workspace records bronze could not decode or store (their Avro bytes unchanged)',
    dlqFormat: 'avro',
  },
  rawDlqJobs: {
    name: dlqTopicOf('raw.enrichment-jobs'),
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'raw job records bronze could not decode or store (their Avro bytes unchanged)',
    dlqFormat: 'avro',
  },
  gold: {
    name: 'gold.enrichment-jobs',
    partitions: 'data',
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'joined job + workspace, latest per job id',
  },
  goldDlq: {
    name: dlqTopicOf('gold.enrichment-jobs'),
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: -1,
    doc: 'jobs that broke a business rule (processor) and gold records a sink could not decode or store (Avro bytes)',
    dlqFormat: 'avro',
  },
  pollerState: {
    name: '_tributary.poller-state',
    // One partition per polled API (producers/apis.ts, API_NAMES; producers/ownership.ts): the
    // pollers' consumer group assigns these partitions, so it decides which process polls which API.
    partitions: 2,
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'poller cursors, one partition per API, written in the same transaction as the records',
  },
  processorState: {
    name: '_tributary.processor-state',
    partitions: 'data',
    cleanup: 'compact',
    retentionMs: -1,
    doc: 'the stream processor join state (latest workspace and job per id), partition = input partition',
  },
  metrics: {
    name: '_tributary.metrics',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: WEEK / 7,
    doc: 'metrics snapshots published by every role',
  },
  walks: {
    name: '_tributary.walks',
    partitions: 'single',
    cleanup: 'delete',
    retentionMs: WEEK,
    doc: 'one summary per poller walk (served, published, raw offsets), committed after its last page',
  },
};

/** Every topic under its default name, in declaration order. */
export const TOPICS: readonly TopicSpec[] = Object.values(TOPIC_DECLARATIONS);

/** The Kafka creation config of each topic: partitions, cleanup policy and retention. */
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
