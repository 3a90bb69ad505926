import type { RecordMetadata } from 'kafkajs';
import { describeError } from '../common/errors.ts';
import type { TopicLimits } from '../common/kafka-limits.ts';
import type { Probe } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { type RetryPolicy, sleep, withRetry } from '../common/retry.ts';
import type { ApiSpec } from './apis.ts';
import { isFencedError, type PageCommitter } from './committer.ts';
import type { PollerMetrics } from './metrics.ts';
import type { ApiTopics } from './options.ts';
import { buildPage } from './page.ts';
import { type SourceClient, SourceError } from './source-client.ts';
import { addMark, type Cursor, stateOf, walkStart } from './state.ts';
import type { StateStore } from './state-store.ts';
import { startWalk, type WalkRecorder, type WalkTally } from './walks.ts';

/**
 * One poller: every interval it walks its API's change feed from the high-water mark (minus the
 * overlap) to the end, one Kafka transaction per page. Source failures (after retries) end the walk
 * and the next interval starts over from the committed state; Kafka failures also throw away the
 * producer and state, which are rebuilt from the state topic (the last commit's outcome is unknown).
 */
export interface PollerDeps {
  api: ApiSpec;
  topics: ApiTopics;
  source: SourceClient;
  /** a new, unopened committer (each has its own producer with the poller's transactional id) */
  createCommitter: () => PageCommitter;
  /** the poller's transactional id: its dead letters name it as their writer */
  transactionalId: string;
  stateStore: StateStore;
  /** max.message.bytes of the topics (loaded for this poller's topics when a session opens) */
  limits: TopicLimits;
  /** registers the value schema of the raw topic and returns an encoder (called once per session) */
  prepareEncoder: () => Promise<(record: unknown) => Promise<Buffer>>;
  metrics: PollerMetrics;
  logger: Logger;
  intervalMs: number;
  pageSize: number;
  overlapMs: number;
  retry: RetryPolicy;
  now?: () => number;
  /** told when a walk is due, each page committed, each failure (common/liveness.ts) */
  probe?: Probe;
  /** builds each walk's summary for the walks topic (producers/walks.ts); none when absent */
  walks?: WalkRecorder;
  /**
   * The producer was fenced while this poller was not asked to stop: another producer took the
   * API's transactional id. The poller has stopped for good (`done` resolves); its probe is left
   * in place, still due and naming the error, for the owner to remove once it knows why.
   */
  onFenced?: (err: unknown) => void;
}

export interface Poller {
  readonly name: string;
  /** true after a walk reached the end of the feed, false after a failure */
  healthy(): boolean;
  /** resolves when the loop has stopped (after close) */
  readonly done: Promise<void>;
  /** finishes the page in flight (fetched pages are committed), then closes the producer; idempotent */
  close(): Promise<void>;
}

interface Session {
  committer: PageCommitter;
  cursor: Cursor;
  encode: (record: unknown) => Promise<Buffer>;
}

export function createPoller(deps: PollerDeps): Poller {
  const { api, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const labels = { api: api.name };
  const stop = new AbortController();
  let healthy = false;
  let session: Session | undefined;
  let fenced = false;

  async function openSession(): Promise<Session> {
    const committer = deps.createCommitter();
    try {
      await committer.open();
      const encode = await deps.prepareEncoder();
      const { raw, dlq } = deps.topics;
      await deps.limits.load([raw, dlq]);
      const cursor = await deps.stateStore.load(api.name, [raw, dlq]);
      logger.info({ api: api.name, hwm: cursor.hwm, window: cursor.seen.size }, 'poller state loaded');
      return { committer, cursor, encode };
    } catch (err) {
      await committer.close();
      throw err;
    }
  }

  /**
   * Walks the feed to its end, then commits the walk's summary (what it served and where that
   * landed) in a transaction of its own. A walk ended by a stop or a source failure is summarised
   * too (its committed pages); after a Kafka failure the session is gone and so is the summary.
   */
  async function walk(s: Session): Promise<void> {
    const updatedSince = walkStart(s.cursor, deps.overlapMs);
    const tally = startWalk({
      api: api.name,
      topics: deps.topics,
      startedAt: now(),
      startCursor: updatedSince,
      hwm: s.cursor.hwm,
    });
    const summarise = async (outcome: 'complete' | 'stopped' | 'failed') => {
      const summary = await deps.walks?.summary(tally, { endedAt: now(), outcome, hwm: s.cursor.hwm });
      if (summary) await s.committer.commit([], () => summary);
    };
    try {
      await pages(s, updatedSince, tally);
    } catch (err) {
      if (err instanceof SourceError || err === stop.signal.reason)
        await summarise(err instanceof SourceError ? 'failed' : 'stopped');
      throw err;
    }
    await summarise(stop.signal.aborted ? 'stopped' : 'complete');
  }

  /** The pages of one walk. Returns early (between pages) when a stop was requested. */
  async function pages(s: Session, updatedSince: string | undefined, tally: WalkTally): Promise<void> {
    let cursor: string | null = null;
    do {
      if (stop.signal.aborted) return;
      const page = await withRetry(
        () =>
          deps.source.fetchPage(api.name, {
            updatedSince,
            cursor,
            limit: deps.pageSize,
            signal: stop.signal,
          }),
        deps.retry,
        {
          signal: stop.signal,
          onRetry: ({ error, retryAfterMs }) => {
            metrics.retries.inc(labels);
            logger.warn({ api: api.name, retryAfterMs, err: describeError(error) }, 'retrying page');
          },
        },
      );
      const fetchedAt = now();
      const built = await buildPage(
        {
          api,
          topics: deps.topics,
          encode: s.encode,
          overlapMs: deps.overlapMs,
          maxMessageBytes: (t) => deps.limits.maxMessageBytes(t),
          writer: deps.transactionalId,
        },
        s.cursor,
        page,
        fetchedAt,
      );
      tally.fetched(page.data.length, built.duplicates);
      const counts = { published: built.published, dlq: built.deadLettered, duplicates: built.duplicates };
      logger.debug({ api: api.name, records: page.data.length, ...counts }, 'page fetched');
      if (built.batches.length > 0) {
        let next = built.next;
        let landed: RecordMetadata[] = [];
        await s.committer.commit(
          built.batches,
          (sent) => {
            // The state records where this page's records landed: a restart reads the window back.
            landed = sent;
            const offsets = sent.map((m) => ({
              topic: m.topicName,
              partition: m.partition,
              offset: m.baseOffset ?? '0',
            }));
            next = addMark(built.next, { at: built.newestAt, offsets }, deps.overlapMs);
            return deps.stateStore.message(api.name, stateOf(next, now()));
          },
          { beforeCommit: () => logger.debug({ api: api.name }, 'page sent') },
        );
        s.cursor = next;
        tally.committed(built.published, built.deadLettered, landed);
        metrics.pages.inc(labels);
        deps.probe?.progressed();
        metrics.published.inc(labels, built.published);
        metrics.deadLettered.inc(labels, built.deadLettered);
        logger.debug({ api: api.name, hwm: s.cursor.hwm, ...counts }, 'page committed');
      }
      metrics.duplicatesDropped.inc(labels, built.duplicates);
      cursor = page.nextCursor;
      const behind = cursor && s.cursor.hwm ? Math.max(0, (fetchedAt - s.cursor.hwm.updatedAt) / 1000) : 0;
      metrics.behindSeconds.set(labels, behind);
    } while (cursor);
  }

  /**
   * 'source': unavailable after retries; 'request': rejected (400/401/404), needs a fix; 'kafka':
   * Kafka or registry ('fenced', counted in the loop: another producer took the transactional id)
   */
  function onFailure(err: unknown): void {
    healthy = false;
    metrics.healthy.set(labels, 0);
    const kind = err instanceof SourceError ? (err.retriable ? 'source' : 'request') : 'kafka';
    metrics.errors.inc({ ...labels, kind });
    deps.probe?.failed(err);
    logger.error({ api: api.name, kind, err: describeError(err) }, 'walk failed; trying again next interval');
  }

  async function loop(): Promise<void> {
    while (!stop.signal.aborted) {
      // A walk is due until one reaches the end of the feed: failing ones keep it due (a stall).
      deps.probe?.waiting('walk', 1);
      try {
        session ??= await openSession();
        await walk(session);
        if (!stop.signal.aborted) {
          logger.debug({ api: api.name, hwm: session.cursor.hwm }, 'walk done');
          deps.probe?.progressed();
          deps.probe?.waiting('walk', 0);
          healthy = true;
          metrics.healthy.set(labels, 1);
          metrics.lastSuccess.set(labels, now() / 1000);
        }
      } catch (err) {
        if (stop.signal.aborted && err === stop.signal.reason) break;
        if (isFencedError(err)) {
          healthy = false;
          metrics.healthy.set(labels, 0);
          if (stop.signal.aborted) {
            // Asked to stop (the API was given to another process) and the new owner was faster.
            logger.info(
              { api: api.name },
              'poller handed over: the new owner fenced the page in flight (aborted; it polls again from the last committed page)',
            );
          } else {
            fenced = true;
            metrics.errors.inc({ ...labels, kind: 'fenced' });
            deps.probe?.failed(err);
            deps.onFenced?.(err);
          }
          break;
        }
        onFailure(err);
        // After a source failure the producer and state are intact; after anything else (Kafka, the
        // registry) the last commit's outcome is unknown: rebuild both from the state topic.
        if (!(err instanceof SourceError) && session) {
          await session.committer.close();
          session = undefined;
        }
      }
      await sleep(deps.intervalMs, stop.signal).catch(() => {}); // aborted by close(): the loop ends
    }
    if (!fenced) deps.probe?.remove();
    await session?.committer.close();
  }

  metrics.healthy.set(labels, 0);
  const done = loop();
  return {
    name: api.name,
    healthy: () => healthy,
    done,
    async close() {
      stop.abort(new Error(`${api.name} poller stopping`));
      await done;
    },
  };
}
