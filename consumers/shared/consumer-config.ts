import type { ConsumerConfig, PartitionAssigner } from 'kafkajs';
import type { ConsumerTiming } from './options.ts';

/**
 * The kafkajs consumer settings of every group of this folder (bronze, the processor, the gold
 * sinks). readUncommitted stays false (the default, spelled out): the pollers produce
 * transactionally, and aborted records must never reach bronze, the processor or a sink.
 */
export function consumerConfig(
  groupId: string,
  timing: ConsumerTiming,
  extra: { maxBytesPerPartition?: number; partitionAssigners?: PartitionAssigner[] } = {},
): ConsumerConfig {
  return {
    groupId,
    readUncommitted: false,
    sessionTimeout: timing.sessionTimeoutMs,
    heartbeatInterval: timing.heartbeatIntervalMs,
    maxBytesPerPartition: extra.maxBytesPerPartition,
    // the processor's gives a task (partition p of both its topics) to one member; kafkajs'
    // round-robin when undefined
    partitionAssigners: extra.partitionAssigners,
    allowAutoTopicCreation: false,
  };
}
