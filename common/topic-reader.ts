import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { describeError, RemoteError } from './errors.ts';
import { kafkaSideCrash, keepConsumerRunning } from './keep-running.ts';
import { type Logger, silentLogger } from './logger.ts';
import { waitFor } from './wait-for.ts';

/**
 * Reads bounded offset ranges of partitions once, with a throw-away consumer group that never
 * commits (deleted afterwards). The one way the operator commands look at records: status peeks at
 * the oldest unconsumed message, dlq scans a dead-letter topic, rebuild-gold reads a gold topic.
 *
 * Why not "read until the offset before the end": transactional topics end with commit markers and
 * may hold aborted records, which a read_committed consumer never sees as messages. kafkajs still
 * reports such batches (START_BATCH_PROCESS with batchSize 0 and their last offset), which is how a
 * range that ends in markers is known to be complete.
 */
export interface OffsetRange {
  topic: string;
  partition: number;
  /** first offset to read */
  from: string;
  /** end of the range, exclusive (typically the high watermark) */
  to: string;
}

export interface RangeMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Return 'stop' to stop reading that partition. */
export type OnRangeMessage = (m: RangeMessage) => undefined | 'stop' | Promise<undefined | 'stop'>;

export const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface Progress {
  range: OffsetRange;
  next: bigint;
  to: bigint;
}

export async function readRanges(
  deps: { kafka: Kafka; admin: Admin; logger?: Logger },
  ranges: readonly OffsetRange[],
  onMessage: OnRangeMessage,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const pending = new Map<string, Progress>();
  for (const r of ranges) {
    if (BigInt(r.from) < BigInt(r.to)) {
      pending.set(tpKey(r.topic, r.partition), { range: r, next: BigInt(r.from), to: BigInt(r.to) });
    }
  }
  if (pending.size === 0) return;
  // Not under the pipeline's `tributary.` prefix, so status never lists these short-lived groups.
  const groupId = `tributary-ops-reader-${randomUUID()}`;
  const topics = [...new Set(ranges.map((r) => r.topic))];
  let failure: unknown;

  const finish = (topic: string, partition: number) => {
    if (!pending.delete(tpKey(topic, partition))) return;
    kept.current().pause([{ topic, partitions: [partition] }]);
  };
  const advance = (topic: string, partition: number, next: bigint) => {
    const p = pending.get(tpKey(topic, partition));
    if (!p) return;
    if (next > p.next) p.next = next;
    if (p.next >= p.to) finish(topic, partition);
  };

  // kafkajs restarts the consumer after a retriable crash (e.g. a broker timeout under load), and
  // keepConsumerRunning after a Kafka-side one kafkajs gives up on: the read resumes where it was.
  // A crash of our own callback ends the read.
  const kept = keepConsumerRunning({
    groupId,
    topics,
    logger: deps.logger ?? silentLogger(),
    backoff: { minDelayMs: 250, maxDelayMs: 5000 },
    shouldRestart: kafkaSideCrash,
    onCrash: (err, restartedByKafkajs) => {
      if (!restartedByKafkajs && !kafkaSideCrash(err)) failure = err;
    },
    create: () =>
      deps.kafka.consumer({
        groupId,
        readUncommitted: false,
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
      }),
    run: async (consumer) => {
      consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
        // A batch of only markers or aborted records: nothing to hand over, but the range moved on.
        if (payload.batchSize === 0 && payload.lastOffset !== null && payload.lastOffset !== undefined) {
          advance(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, pause, heartbeat }) => {
          const p = pending.get(tpKey(batch.topic, batch.partition));
          if (!p) {
            pause(); // a partition of the topic that no range asks for
            return;
          }
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            // A fetch issued before the seek took effect may return records twice or too early.
            if (offset < p.next) continue;
            if (offset >= p.to) break;
            p.next = offset + 1n;
            if ((await onMessage({ topic: batch.topic, partition: batch.partition, message })) === 'stop') {
              finish(batch.topic, batch.partition);
              return;
            }
          }
          advance(batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
          await heartbeat();
        },
      });
      // From where each range is, so a restarted consumer resumes instead of starting over.
      for (const p of pending.values()) {
        consumer.seek({ topic: p.range.topic, partition: p.range.partition, offset: p.next.toString() });
      }
    },
  });

  try {
    await kept.start();
    await waitFor(
      () => {
        if (pending.size === 0) return true;
        if (failure) throw failure;
        return false;
      },
      {
        timeoutMs: opts.timeoutMs ?? 60_000,
        intervalMs: 50,
        what: `reading ${describe(pending)}`,
        signal: opts.signal,
      },
    ).catch((err) => {
      const crash = kept.lastCrash();
      const last = crash && crash !== err ? ` (last crash: ${describeError(crash)})` : '';
      throw new RemoteError(
        `kafka: could not read ${describe(pending)}: ${(err as Error).message}${last}`,
        undefined,
        {
          retriable: true,
          cause: err,
        },
      );
    });
  } finally {
    await kept.close().catch(() => {}); // the read's own outcome is what the caller needs
    await deps.admin.deleteGroups([groupId]).catch(() => {}); // a leftover empty group expires by itself
  }
}

function describe(pending: Map<string, Progress>): string {
  const parts = [...pending.values()]
    .slice(0, 5)
    .map((p) => `${p.range.topic}/${p.range.partition}@${p.next}`);
  return parts.join(', ') + (pending.size > 5 ? ` and ${pending.size - 5} more` : '');
}

/** The first record at or after each offset and before `to`; absent when only markers are left. */
export async function firstMessages(
  deps: { kafka: Kafka; admin: Admin },
  ranges: readonly OffsetRange[],
  opts: { timeoutMs?: number } = {},
): Promise<Map<string, KafkaMessage>> {
  const found = new Map<string, KafkaMessage>();
  await readRanges(
    deps,
    ranges,
    ({ topic, partition, message }) => {
      found.set(tpKey(topic, partition), message);
      return 'stop';
    },
    opts,
  );
  return found;
}

/** Ranges from the low to the high watermark of every partition of the topics (their whole content). */
export async function wholeTopics(admin: Admin, topics: readonly string[]): Promise<OffsetRange[]> {
  const out: OffsetRange[] = [];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      out.push({ topic, partition: p.partition, from: p.low, to: p.high });
    }
  }
  return out;
}
