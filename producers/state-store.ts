import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { RemoteError } from '../common/errors.ts';
import { type OffsetRange, readRanges } from '../common/topic-reader.ts';
import { waitFor } from '../common/wait-for.ts';
import { HEADERS } from '../contracts/headers.ts';
import { isApiName } from './apis.ts';
import { apiPartition } from './ownership.ts';
import {
  type Cursor,
  initialCursor,
  type PollerState,
  type PollerStateV1,
  parseState,
  restoredCursor,
  serializeState,
  type TopicOffset,
} from './state.ts';

/**
 * Reads and writes poller states in the compacted state topic (key = poller name, value = JSON of
 * PollerState). Writes are only ever made inside the page transaction (see `message`); reads take
 * the last *committed* value with a read_committed consumer, so the state of an aborted or
 * never-committed transaction (a poller killed mid-page) is never seen. `load` then reads the
 * overlap window's records back from the raw and dead-letter topics to rebuild the set of versions
 * already published (see state.ts).
 */
export interface StateStore {
  /** the cursor as of the last committed page of `poller` (initial when it never committed one) */
  load(poller: string, topics: readonly string[]): Promise<Cursor>;
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
  overlapMs: number;
}): StateStore {
  const { kafka, topic } = deps;

  async function withAdmin<T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The last committed value of `poller`'s key in each of `partitions` that holds one (null: a
   * tombstone, the state was deleted on purpose).
   */
  async function readLatest(
    poller: string,
    partitions: ReadonlySet<number>,
  ): Promise<Map<number, string | null>> {
    // The end offsets are taken after the caller initialised its transactions, so the caller's
    // own last transaction is already committed or aborted below them.
    const pending = await withAdmin(async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(
        offsets
          .filter((o) => partitions.has(o.partition) && BigInt(o.high) > BigInt(o.low))
          .map((o) => [o.partition, BigInt(o.high)] as const),
      );
    });
    const latest = new Map<number, string | null>();
    if (pending.size === 0) return latest;

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
        eachMessage: async ({ partition, message }) => {
          // Other partitions belong to other APIs (their writers' open transactions are no concern).
          if (!partitions.has(partition) || message.key?.toString() !== poller) return;
          latest.set(partition, message.value === null ? null : message.value.toString());
        },
      });
      await waitFor(() => pending.size === 0, {
        timeoutMs: deps.timeoutMs,
        intervalMs: 50,
        what: `the end of ${topic} (partitions ${[...partitions].join(', ')})`,
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
        { retriable: true, cause: failure },
      );
    }
    return latest;
  }

  /**
   * The last committed state of `poller`, or undefined when it never committed one (or it was
   * deleted). It lives in the API's own partition (producers/ownership.ts). A state topic that had
   * fewer partitions before (one, up to 0.x) holds it where the key hashed to: read there only
   * while the own partition has none, and the newest (committedAt) wins if several do.
   */
  async function read(poller: string): Promise<PollerState | PollerStateV1 | undefined> {
    const own = isApiName(poller) ? apiPartition(poller) : 0;
    const mine = await readLatest(poller, new Set([own]));
    if (mine.has(own)) {
      const v = mine.get(own);
      return v === null || v === undefined ? undefined : parseState(v);
    }
    const count = await withAdmin(async (admin) => (await admin.fetchTopicOffsets(topic)).length);
    const others = new Set(Array.from({ length: count }, (_, p) => p).filter((p) => p !== own));
    if (others.size === 0) return undefined;
    const states = [...(await readLatest(poller, others)).values()]
      .filter((v): v is string => v !== null)
      .map((v) => parseState(v));
    return states.sort((a, b) => b.committedAt - a.committedAt)[0];
  }

  /** The versions (key, at) of the window's records, from each offset to the current end. */
  async function readWindow(window: readonly TopicOffset[]): Promise<Array<[string, number]>> {
    if (window.length === 0) return [];
    const versions: Array<[string, number]> = [];
    await withAdmin(async (admin) => {
      const ranges: OffsetRange[] = [];
      for (const t of new Set(window.map((w) => w.topic))) {
        const high = new Map((await admin.fetchTopicOffsets(t)).map((o) => [o.partition, o.high]));
        for (const w of window.filter((x) => x.topic === t)) {
          ranges.push({
            topic: t,
            partition: w.partition,
            from: w.offset,
            to: high.get(w.partition) ?? w.offset,
          });
        }
      }
      await readRanges(
        { kafka, admin },
        ranges,
        ({ message }) => {
          const key = message.headers?.[HEADERS.version]?.toString();
          const at = Number(message.headers?.[HEADERS.versionAt]?.toString());
          // Records without the headers were not written by a poller (e.g. a redriven letter).
          if (key !== undefined && Number.isFinite(at)) versions.push([key, at]);
          return undefined;
        },
        { timeoutMs: deps.timeoutMs },
      );
    });
    return versions;
  }

  /**
   * A version-1 state lists its window's versions itself; later states must know where their
   * records are. A version was fetched no earlier than its updated_at minus the clock skew the
   * overlap allows, so its record's produce time is after that: the offsets for that time cover it.
   */
  async function windowSince(topics: readonly string[], at: number): Promise<TopicOffset[]> {
    return withAdmin(async (admin) => {
      const out: TopicOffset[] = [];
      for (const t of topics) {
        for (const o of await admin.fetchTopicOffsetsByTimestamp(t, at)) {
          out.push({ topic: t, partition: o.partition, offset: o.offset });
        }
      }
      return out;
    });
  }

  return {
    message(poller, state) {
      // In the API's own partition: the group's assignment of that partition is the API's ownership.
      const partition = isApiName(poller) ? apiPartition(poller) : undefined;
      return { topic, messages: [{ key: poller, value: serializeState(state), partition }] };
    },

    async load(poller, topics) {
      const state = await read(poller);
      if (!state) return initialCursor();
      if (state.v === 2) {
        return restoredCursor(state.hwm, await readWindow(state.window), state.window, deps.overlapMs);
      }
      const oldest = Math.min(...state.seen.map(([, at]) => at));
      const window = state.seen.length > 0 ? await windowSince(topics, oldest - deps.overlapMs - 60_000) : [];
      return restoredCursor(state.hwm, state.seen, window, deps.overlapMs);
    },
  };
}
