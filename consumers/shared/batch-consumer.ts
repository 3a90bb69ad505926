import type { Consumer, KafkaMessage } from 'kafkajs';
import { keepConsumerRunning } from '../../common/keep-running.ts';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import { createPartitionCommits } from './partition-commits.ts';

/** Consecutive messages of one partition, handed to the handler in one call. */
export interface Chunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface BatchConsumerOptions {
  /**
   * A new kafkajs consumer of the group (read_committed), built by the caller; called again when a
   * crash kafkajs will not restart from needs a fresh one (common/keep-running.ts).
   */
  createConsumer: () => Consumer;
  groupId: string;
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
  /** the role's liveness: the loop reports its group membership, waiting messages and commits */
  liveness?: Liveness;
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
 * drop the last commit on a graceful shutdown. A batch with nothing to hand over (only an aborted
 * transaction's records and markers) is committed past too, in order with the others
 * (partition-commits.ts): otherwise a topic that ends in an aborted transaction leaves the group
 * short of its end until the next record. A crash kafkajs does not restart from is logged and the
 * loop restarted with a new consumer (common/keep-running.ts).
 */
export function createBatchConsumer(opts: BatchConsumerOptions): BatchConsumer {
  const { topic, batchSize, logger } = opts;
  const probe = opts.liveness?.probe(`group ${opts.groupId} (${topic})`);
  const kept = keepConsumerRunning({
    groupId: opts.groupId,
    topics: [topic],
    create: opts.createConsumer,
    logger,
    probe,
    run: async (consumer) => {
      const commits = createPartitionCommits();
      consumer.on(consumer.events.GROUP_JOIN, () => commits.reset());
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        // kafkajs emits this for a batch it filtered to nothing without calling eachBatch
        if (payload.batchSize !== 0 || payload.topic !== topic) return;
        const offset = nextOffset(payload.lastOffset);
        commits
          .commit(payload.partition, offset, () =>
            consumer.commitOffsets([{ topic, partition: payload.partition, offset }]),
          )
          .catch((err: unknown) =>
            // a rebalance or a stop: the next owner reads the aborted records again and skips them
            logger.debug(
              { err, partition: payload.partition, offset },
              'commit past filtered records failed',
            ),
          );
      });
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
            try {
              await opts.handle({ topic: batch.topic, partition, messages: chunk });
            } catch (err) {
              probe?.failed(err); // kafkajs retries the batch; the error is the stall's reason meanwhile
              throw err;
            }
            const last = chunk[chunk.length - 1]!;
            // At the end of the batch, commit past any transaction markers after the last message.
            const lastOffset = i + batchSize >= messages.length ? batch.lastOffset() : last.offset;
            resolveOffset(last.offset);
            const offset = nextOffset(lastOffset);
            await commits.commit(partition, offset, () =>
              commitOffsetsIfNecessary({
                topics: [{ topic: batch.topic, partitions: [{ partition, offset }] }],
              }),
            );
            probe?.progressed();
            await heartbeat();
          }
        },
      });
    },
  });

  return { start: () => kept.start(), close: () => kept.close() };
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
