import type { Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from '../../common/logger.ts';

/** Consecutive messages of one partition, handed to the handler in one call. */
export interface Chunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface BatchConsumerOptions {
  /** a connected-or-not kafkajs consumer of one group, created by the caller (read_committed) */
  consumer: Consumer;
  topic: string;
  /** where a group without committed offsets starts */
  fromBeginning: boolean;
  /** the most messages per handler call (and per database transaction) */
  batchSize: number;
  /** how many partitions are handled at the same time */
  partitionsConsumedConcurrently?: number;
  /**
   * Writes the chunk durably (or throws). The chunk's offsets are committed only after it
   * resolves, so a crash at any point re-delivers the chunk: the handler must be idempotent.
   */
  handle(chunk: Chunk): Promise<void>;
  logger: Logger;
}

export interface BatchConsumer {
  start(): Promise<void>;
  /** Finishes the chunk in flight, commits its offsets, leaves the group and disconnects. Once. */
  close(): Promise<void>;
}

/**
 * The consume loop shared by bronze and the gold sinks: kafkajs `eachBatch` with auto-commit and
 * auto-resolve off, each fetched batch cut into chunks of `batchSize`, and after each chunk the
 * offset after it committed explicitly. Commits go through the batch's `commitOffsetsIfNecessary`
 * because `consumer.commitOffsets` silently does nothing once the consumer is stopping, which would
 * drop the last commit on a graceful shutdown.
 */
export function createBatchConsumer(opts: BatchConsumerOptions): BatchConsumer {
  const { consumer, topic, batchSize, logger } = opts;
  let closing: Promise<void> | undefined;

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, topic, restart: payload.restart }, 'consumer crashed');
  });

  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({
          batch,
          resolveOffset,
          commitOffsetsIfNecessary,
          heartbeat,
          isRunning,
          isStale,
        }) => {
          const { messages, partition } = batch;
          for (let i = 0; i < messages.length; i += batchSize) {
            // Stop between chunks on shutdown or rebalance: what is not committed is re-delivered.
            if (!isRunning() || isStale()) return;
            const chunk = messages.slice(i, i + batchSize);
            await opts.handle({ topic: batch.topic, partition, messages: chunk });
            const last = chunk[chunk.length - 1]!;
            // At the end of the batch, commit past any transaction markers after the last message.
            const lastOffset = i + batchSize >= messages.length ? batch.lastOffset() : last.offset;
            resolveOffset(last.offset);
            await commitOffsetsIfNecessary({
              topics: [{ topic: batch.topic, partitions: [{ partition, offset: nextOffset(lastOffset) }] }],
            });
            await heartbeat();
          }
        },
      });
    },
    close() {
      closing ??= consumer.disconnect();
      return closing;
    },
  };
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
