import type { Admin } from 'kafkajs';
import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { WALK_METRICS } from '../../contracts/metrics/index.ts';
import type { WalksApi, WalksOptions } from './options.ts';
import { type LatestWalk, latestWalks } from './query.ts';
import { caughtUp, judge } from './reconcile.ts';
import type { StoredWalk, WalkStore } from './store.ts';

/**
 * The loop that settles walks: every TRIBUTARY_WALKS_RECONCILE_MS it counts each pending (and each
 * unreconciled: a replay or redrive may still bring the version in) walk against bronze, its dead
 * letters and gold, and publishes per API the gauges an alert rule can use:
 *
 * - `tributary_walks_unreconciled{api}`: walks with a version served but neither in bronze nor in a
 *   DLQ once bronze caught up (> 0 is worth an alert);
 * - `tributary_walks_pending{api}` and `tributary_walks_oldest_pending_seconds{api}`: walks bronze
 *   has not caught up with yet (a long wait means bronze is stuck, or its group is misconfigured).
 */
export interface WalkHealth {
  api: string;
  unreconciled: number;
  pending: number;
  oldestPendingSeconds: number;
}

export interface WalkReconciler {
  /** one pass now (tests, and the loop) */
  pass(): Promise<void>;
  /** per configured API, as of the last pass: for alert rules */
  health(): WalkHealth[];
  /** the latest walk per API, as of the last pass */
  latest(): LatestWalk[];
  stop(): Promise<void>;
}

export function startWalkReconciler(deps: {
  store: WalkStore;
  pool: Parameters<typeof latestWalks>[0];
  admin: Admin;
  options: WalksOptions;
  metrics: RoleMetrics;
  logger: Logger;
  now?: () => number;
  /** false: no timer, passes only when called (tests) */
  loop?: boolean;
}): WalkReconciler {
  const { store, options, logger } = deps;
  const now = deps.now ?? Date.now;
  const byTopic = new Map<string, WalksApi>(Object.values(options.apis).map((a) => [a.rawTopic, a]));
  const rawTopics = [...byTopic.keys()];
  const unreconciled = deps.metrics.gauge(WALK_METRICS.unreconciled);
  const pending = deps.metrics.gauge(WALK_METRICS.pending);
  const oldest = deps.metrics.gauge(WALK_METRICS.oldestPendingSeconds);
  const errors = deps.metrics.counter(WALK_METRICS.reconcileErrors);
  let health: WalkHealth[] = Object.values(options.apis).map((a) => ({
    api: a.api,
    unreconciled: 0,
    pending: 0,
    oldestPendingSeconds: 0,
  }));
  let latest: LatestWalk[] = [];

  /** the bronze group's committed offsets on a raw topic (partition → next offset, null: none) */
  async function committed(api: WalksApi): Promise<Map<number, string | null>> {
    const [topic] = await deps.admin.fetchOffsets({ groupId: api.bronzeGroup, topics: [api.rawTopic] });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, p.offset === '-1' ? null : p.offset]));
  }

  /** One walk's failure (its group's offsets unreadable…) is logged and does not hold the others. */
  async function settle(walks: StoredWalk[]): Promise<void> {
    const offsets = new Map<string, Promise<Map<number, string | null>>>();
    for (const w of walks) {
      const api = byTopic.get(w.rawTopic);
      if (!api) continue;
      try {
        const landed = await store.landed(api.bronzeTable, w);
        // Once bronze was past a walk it stays judged on counts alone: a reset or replay that moves
        // the group's offsets back must not turn a flagged walk back into a pending one.
        let done = w.status === 'unreconciled';
        if (!done && landed.inBronze + landed.bronzeDeadLetters < w.published) {
          if (!offsets.has(api.rawTopic)) offsets.set(api.rawTopic, committed(api));
          done = caughtUp(w.rawOffsets, await offsets.get(api.rawTopic)!);
        }
        const verdict = judge(w.published, landed, done);
        const goldRows = await store.goldRows(api.bronzeTable, w);
        await store.record(w.walkId, { ...landed, ...verdict, goldRows });
        if (verdict.status === 'unreconciled' && w.status !== 'unreconciled')
          logger.warn(
            { api: api.api, walkId: w.walkId, missing: verdict.missing },
            'walk does not reconcile',
          );
      } catch (err) {
        errors.inc();
        offsets.delete(api.rawTopic);
        logger.warn(
          { api: api.api, walkId: w.walkId, err: describeError(err) },
          'walk not counted; next pass tries again',
        );
      }
    }
  }

  async function pass(): Promise<void> {
    try {
      await settle(await store.unsettled(rawTopics, 200));
      if (options.goldRecountMs > 0) {
        for (const w of await store.recent(rawTopics, now() - options.goldRecountMs)) {
          const api = byTopic.get(w.rawTopic);
          if (api) await store.recordGold(w.walkId, await store.goldRows(api.bronzeTable, w));
        }
      }
      const rows = await store.health(rawTopics);
      health = Object.values(options.apis).map(
        (a) =>
          rows.find((r) => r.api === a.api) ?? {
            api: a.api,
            unreconciled: 0,
            pending: 0,
            oldestPendingSeconds: 0,
          },
      );
      for (const h of health) {
        unreconciled.set({ api: h.api }, h.unreconciled);
        pending.set({ api: h.api }, h.pending);
        oldest.set({ api: h.api }, h.oldestPendingSeconds);
      }
      latest = await latestWalks(deps.pool, rawTopics);
    } catch (err) {
      errors.inc();
      logger.warn({ err: describeError(err) }, 'walk reconciliation pass failed; next pass tries again');
    }
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      inFlight = pass().finally(() => {
        if (!stopped) schedule(options.reconcileMs);
      });
    }, delayMs);
  };
  if (deps.loop !== false) schedule(0);

  return {
    pass,
    health: () => health.map((h) => ({ ...h })),
    latest: () => latest,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
