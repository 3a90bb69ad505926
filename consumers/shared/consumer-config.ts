import type { ConsumerConfig } from 'kafkajs';
import type { ConsumerTiming } from './options.ts';

/**
 * The kafkajs consumer settings of every group of this folder. readUncommitted stays false (the
 * default, spelled out): the pollers produce transactionally, and aborted records must never reach
 * bronze or a sink.
 */
export function consumerConfig(
  groupId: string,
  timing: ConsumerTiming,
  extra: { maxBytesPerPartition?: number } = {},
): ConsumerConfig {
  return {
    groupId,
    readUncommitted: false,
    sessionTimeout: timing.sessionTimeoutMs,
    heartbeatInterval: timing.heartbeatIntervalMs,
    maxBytesPerPartition: extra.maxBytesPerPartition,
    allowAutoTopicCreation: false,
  };
}
