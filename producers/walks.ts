import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, RecordMetadata, TopicMessages } from 'kafkajs';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import { waitFor } from '../common/wait-for.ts';
import { HEADERS } from '../contracts/headers.ts';
import { POLLER_METRICS } from '../contracts/metrics/index.ts';
import type { ApiName } from './apis.ts';
import type { ApiTopics } from './options.ts';
import type { Cursor } from './state.ts';

/**
 * Walk summaries: what one walk of a feed served and where its records landed, published to the
 * walks topic so that the gateway can later check that every version reached bronze or a DLQ
 * (gateway/walks/). Pure tally + one recorder with the only I/O (the end offsets of the raw topic).
 *
 * A summary counts only pages whose transaction committed, and it is itself committed in a
 * transaction of the poller's producer after the walk's last page: it never claims a version that
 * was aborted. A walk that fails on Kafka (commit outcome unknown) leaves no summary.
 */
export interface RawRange {
  partition: number;
  /** offset of the walk's first record on this partition */
  first: string;
  /** offset of its last record (the last stable offset minus the commit marker) */
  last: string;
}

export type WalkOutcome = 'complete' | 'stopped' | 'failed';

/** The value (JSON) of a record on the walks topic; key = the api. */
export interface WalkSummary {
  v: 1;
  walkId: string;
  api: ApiName;
  rawTopic: string;
  dlqTopic: string;
  /** epoch ms */
  startedAt: number;
  endedAt: number;
  /** complete: reached the end of the feed; stopped: the poller was closed; failed: the source failed */
  outcome: WalkOutcome;
  /** the walk's updated_since (ISO), null when it started from the beginning of the feed */
  startCursor: string | null;
  /** the high-water mark (updated_at epoch ms, id) at the start and at the end */
  startHwm: Cursor['hwm'];
  endHwm: Cursor['hwm'];
  /** pages fetched, entries in them, and how those entries went */
  pages: number;
  served: number;
  duplicates: number;
  published: number;
  deadLettered: number;
  rawOffsets: RawRange[];
}

export interface WalkTally {
  readonly api: ApiName;
  readonly rawTopic: string;
  /** a page was fetched with `entries` entries, `duplicates` of them already published */
  fetched(entries: number, duplicates: number): void;
  /** a page's transaction committed; `sent` = where its requests landed */
  committed(published: number, deadLettered: number, sent: readonly RecordMetadata[]): void;
  /** records still to account for */
  readonly hasNew: boolean;
  /** per raw partition the walk wrote to: first base offset, greatest base offset */
  rawPartitions(): Map<number, { first: bigint; lastBase: bigint }>;
  summary(end: {
    endedAt: number;
    outcome: WalkOutcome;
    hwm: Cursor['hwm'];
    endOffsets: Map<number, bigint>;
  }): WalkSummary;
}

export function startWalk(start: {
  api: ApiName;
  topics: ApiTopics;
  startedAt: number;
  startCursor: string | undefined;
  hwm: Cursor['hwm'];
  walkId?: string;
}): WalkTally {
  let pages = 0;
  let served = 0;
  let duplicates = 0;
  let published = 0;
  let deadLettered = 0;
  const raw = new Map<number, { first: bigint; lastBase: bigint }>();
  return {
    api: start.api,
    rawTopic: start.topics.raw,
    fetched(entries, dups) {
      pages += 1;
      served += entries;
      duplicates += dups;
    },
    committed(pub, dlq, sent) {
      published += pub;
      deadLettered += dlq;
      for (const m of sent) {
        if (m.topicName !== start.topics.raw || m.baseOffset === undefined) continue;
        const base = BigInt(m.baseOffset);
        const seen = raw.get(m.partition);
        if (!seen) raw.set(m.partition, { first: base, lastBase: base });
        else
          raw.set(m.partition, {
            first: seen.first < base ? seen.first : base,
            lastBase: seen.lastBase > base ? seen.lastBase : base,
          });
      }
    },
    get hasNew() {
      return published + deadLettered > 0;
    },
    rawPartitions: () => new Map(raw),
    summary(end) {
      const rawOffsets = [...raw]
        .sort(([a], [b]) => a - b)
        .map(([partition, r]) => {
          // The walk is the only writer of its raw topic while it runs and each partition's last
          // entry is the commit marker of the walk's last transaction there.
          const stable = end.endOffsets.get(partition);
          if (stable === undefined || stable < r.lastBase + 2n)
            throw new Error(`no stable end offset past ${r.lastBase} on ${start.topics.raw}/${partition}`);
          return { partition, first: String(r.first), last: String(stable - 2n) };
        });
      return {
        v: 1,
        walkId: start.walkId ?? randomUUID(),
        api: start.api,
        rawTopic: start.topics.raw,
        dlqTopic: start.topics.dlq,
        startedAt: start.startedAt,
        endedAt: end.endedAt,
        outcome: end.outcome,
        startCursor: start.startCursor ?? null,
        startHwm: start.hwm,
        endHwm: end.hwm,
        pages,
        served,
        duplicates,
        published,
        deadLettered,
        rawOffsets,
      };
    },
  };
}

/**
 * Builds the walk's summary record once its last page committed; the poller commits it in its own
 * transaction. Returns undefined for a walk that published nothing new (most walks of a quiet feed:
 * the overlap's duplicates only), so the table grows with the data, not with the clock.
 */
export interface WalkRecorder {
  summary(
    tally: WalkTally,
    end: { endedAt: number; outcome: WalkOutcome; hwm: Cursor['hwm'] },
  ): Promise<TopicMessages | undefined>;
  close(): Promise<void>;
}

export function createWalkRecorder(deps: {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  metrics: RoleMetrics;
  /** how long to wait for the commit markers of the last transaction to be written */
  timeoutMs: number;
}): WalkRecorder {
  const failed = deps.metrics.counter(POLLER_METRICS.walkSummariesFailed);
  let admin: Admin | undefined;
  let connecting: Promise<Admin> | undefined;

  function connected(): Promise<Admin> {
    connecting ??= (async () => {
      const a = deps.kafka.admin();
      await a.connect();
      admin = a;
      return a;
    })().catch((err) => {
      connecting = undefined;
      throw err;
    });
    return connecting;
  }

  /**
   * The last stable offsets (read_committed ListOffsets) of the raw topic, once they are past every
   * partition's last request: the commit markers are written after EndTxn returns, so at first the
   * stable offset can still be below the walk's last records.
   */
  async function endOffsets(
    topic: string,
    wanted: Map<number, { lastBase: bigint }>,
  ): Promise<Map<number, bigint>> {
    const a = await connected();
    return waitFor(
      async () => {
        const offsets = await a.fetchTopicOffsets(topic);
        const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
        for (const [p, r] of wanted) if ((ends.get(p) ?? -1n) < r.lastBase + 2n) return undefined;
        return ends;
      },
      { timeoutMs: deps.timeoutMs, intervalMs: 50, what: `the stable end offsets of ${topic}` },
    );
  }

  return {
    async summary(tally, end) {
      if (!tally.hasNew) return undefined;
      try {
        const raw = tally.rawPartitions();
        const ends = raw.size > 0 ? await endOffsets(tally.rawTopic, raw) : new Map<number, bigint>();
        const summary = tally.summary({ ...end, endOffsets: ends });
        return {
          topic: deps.topic,
          messages: [
            {
              key: summary.api,
              value: JSON.stringify(summary),
              headers: { [HEADERS.walkId]: summary.walkId },
            },
          ],
        };
      } catch (err) {
        failed.inc({ api: tally.api });
        deps.logger.warn({ api: tally.api, err: describeError(err) }, 'walk summary not recorded');
        return undefined;
      }
    },
    async close() {
      await admin
        ?.disconnect()
        .catch((err) =>
          deps.logger.warn({ err: describeError(err) }, 'walk recorder admin disconnect failed'),
        );
    },
  };
}
