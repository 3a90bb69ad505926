import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { RemoteError } from '../common/errors.ts';
import { waitFor } from '../common/wait-for.ts';
import { type PollerState, parseState, serializeState } from './state.ts';

/**
 * Reads and writes poller states in the compacted state topic (key = poller name, value = JSON of
 * PollerState). Writes are only ever made inside the page transaction (see `message`); reads take
 * the last *committed* value with a read_committed consumer, so the state of an aborted or
 * never-committed transaction (a poller killed mid-page) is never seen.
 */
export interface StateStore {
  /** the last committed state of `poller`, or undefined when it never committed one */
  read(poller: string): Promise<PollerState | undefined>;
  /** the state-topic message to send in the transaction that publishes the page */
  message(poller: string, state: PollerState): { topic: string; messages: Message[] };
}

export function createStateStore(deps: {
  kafka: Kafka;
  topic: string;
  /** consumer group ids are `<groupPrefix>.state-reader.<random>`: one throwaway group per read */
  groupPrefix: string;
  /** how long a read may wait for other producers' open transactions to end */
  timeoutMs: number;
}): StateStore {
  const { kafka, topic } = deps;

  /** partition → end offset, for the partitions that hold anything */
  async function endOffsets(): Promise<Map<number, bigint>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(
        offsets
          .filter((o) => BigInt(o.high) > BigInt(o.low))
          .map((o) => [o.partition, BigInt(o.high)] as const),
      );
    } finally {
      await admin.disconnect();
    }
  }

  return {
    message(poller, state) {
      return { topic, messages: [{ key: poller, value: serializeState(state) }] };
    },

    async read(poller) {
      // The end offsets are taken after the caller initialised its transactions, so the caller's
      // own last transaction is already committed or aborted below them.
      const pending = await endOffsets();
      if (pending.size === 0) return undefined;

      let latest: string | undefined;
      let failure: unknown;
      // kafkajs consumers need a group; autoCommit is off, so it holds no offsets and goes away.
      const consumer = kafka.consumer({
        groupId: `${deps.groupPrefix}.state-reader.${randomUUID()}`,
        readUncommitted: false,
        allowAutoTopicCreation: false,
      });
      // END_BATCH_PROCESS also fires for batches of only control records or aborted messages, which
      // is how a read_committed reader learns that it has passed the trailing commit/abort markers.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const high = pending.get(payload.partition);
        if (high !== undefined && BigInt(payload.lastOffset) + 1n >= high) pending.delete(payload.partition);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.key?.toString() !== poller) return;
            // null is a tombstone: the state was deleted on purpose, start over.
            latest = message.value === null ? undefined : message.value.toString();
          },
        });
        await waitFor(() => pending.size === 0, {
          timeoutMs: deps.timeoutMs,
          intervalMs: 50,
          what: `the end of ${topic}`,
        });
      } catch (err) {
        failure = err;
      } finally {
        await consumer.disconnect();
      }
      if (failure) {
        throw new RemoteError(
          `could not read poller state from ${topic}: ${(failure as Error).message}`,
          undefined,
          {
            retriable: true,
            cause: failure,
          },
        );
      }
      return latest === undefined ? undefined : parseState(latest);
    },
  };
}
