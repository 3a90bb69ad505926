import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { PROCESSOR_METRICS } from '../../contracts/metrics/index.ts';
import type { Analytics } from '../analytics/queries.ts';
import type {
  GroupLag,
  HistoryPoint,
  JobRow,
  Kpis,
  LatestWalk,
  LiveUpdate,
  SourceState,
  StageName,
} from '../events.ts';
import type { KafkaWatch } from './kafka-watch.ts';
import type { MetricsAggregator } from './metrics-aggregator.ts';
import type { OffsetHistory } from './offset-history.ts';
import { pollerHealth } from './pollers.ts';
import type { ReplayTracker } from './replays.ts';
import { stageStates } from './stages.ts';

/**
 * The live picture of the pipeline, rebuilt once per tick from three sources (metrics snapshots,
 * the Kafka admin API, the gold table) and handed to subscribers (the Socket.IO plugin) as one
 * aggregated update. A tick never overlaps the previous one; the KPIs are refreshed in the
 * background every few seconds so a slow database never delays the live rates.
 */
export interface LiveHub {
  latest(): LiveUpdate | undefined;
  history(): HistoryPoint[];
  subscribe(listener: (update: LiveUpdate) => void): () => void;
  /** waits for the tick and the KPI read in flight; no update is published afterwards */
  stop(): Promise<void>;
}

export interface LiveHubDeps {
  metrics: MetricsAggregator;
  replays: ReplayTracker;
  offsets: OffsetHistory;
  kafka: KafkaWatch;
  analytics: Analytics;
  metricsState: () => SourceState;
  /** the latest walk per API (gateway/walks/), when the gateway reconciles walks */
  walks?: () => LatestWalk[];
  logger: Logger;
  options: {
    tickMs: number;
    historySeconds: number;
    kpiRefreshMs: number;
    kpiWindowMinutes: number;
    rawTopics: string[];
    goldTopic: string;
    dlqTopics: string[];
  };
  onTick?: (durationMs: number, errors: string[]) => void;
}

export function startLiveHub(deps: LiveHubDeps): LiveHub {
  const { options } = deps;
  const listeners = new Set<(u: LiveUpdate) => void>();
  const points: HistoryPoint[] = [];
  let latest: LiveUpdate | undefined;
  let kpis: Kpis | null = null;
  let recentJobs: JobRow[] = [];
  let postgres: SourceState = { ok: false, error: 'not read yet' };
  let kafka: SourceState = { ok: false, error: 'not sampled yet' };
  let kpisAt = Number.NEGATIVE_INFINITY;
  let kpiRefresh: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  function refreshKpis(now: number) {
    if (kpiRefresh || now - kpisAt < options.kpiRefreshMs) return;
    kpisAt = now;
    kpiRefresh = (async () => {
      try {
        kpis = await deps.analytics.kpis(options.kpiWindowMinutes);
        recentJobs = (await deps.analytics.recentJobs({ limit: 10 })).jobs;
        postgres = { ok: true };
      } catch (err) {
        postgres = { ok: false, error: describeError(err) };
      } finally {
        kpiRefresh = undefined;
      }
    })();
  }

  async function tick() {
    const started = Date.now();
    const now = started;
    refreshKpis(now);
    let lag: GroupLag[] = latest?.lag ?? [];
    try {
      const groups = await deps.kafka.sample(now);
      lag = groups.map((g) => ({
        group: g.group,
        topics: [...new Set(g.committed.map((c) => c.topic))].sort(),
        ...deps.offsets.lag(g.committed, now),
      }));
      kafka = { ok: true };
    } catch (err) {
      kafka = { ok: false, error: describeError(err) };
    }
    const pollers = pollerHealth(deps.metrics, now);
    const unresolvedJobs = deps.metrics.gauge({ metric: PROCESSOR_METRICS.unresolvedJobs }, now, 'sum');
    const historyMs = options.historySeconds * 1000;
    const update: LiveUpdate = {
      at: now,
      stages: stageStates({
        now,
        metrics: deps.metrics,
        offsets: deps.offsets,
        kafkaOk: kafka.ok,
        rawTopics: options.rawTopics,
        goldTopic: options.goldTopic,
        lag,
        pollers,
        unresolvedJobs,
      }),
      lag,
      pollers,
      deadLetters: options.dlqTopics.map((topic) => ({
        topic,
        messages: (deps.offsets.latest(topic) ?? []).reduce((sum, p) => sum + (p.high - p.low), 0),
        recentIncrease: deps.offsets.increase(topic, now, historyMs),
      })),
      unresolvedJobs,
      kpis,
      recentJobs,
      replays: deps.replays.list(now),
      ...(deps.walks ? { walks: deps.walks() } : {}),
      sources: {
        kafka,
        postgres,
        metrics: {
          ...deps.metricsState(),
          instances: deps.metrics.freshInstances(now),
          lastSnapshotAt: deps.metrics.lastReceivedAt(),
        },
      },
    };
    latest = update;
    points.push({
      at: now,
      rates: Object.fromEntries(update.stages.map((s) => [s.stage, s.ratePerSec])) as Record<
        StageName,
        number | null
      >,
      lag: Object.fromEntries(lag.map((g) => [g.group, { messages: g.messages, seconds: g.seconds }])),
    });
    while (points.length > 0 && points[0]!.at < now - historyMs) points.shift();
    for (const listener of listeners) {
      try {
        listener(update);
      } catch (err) {
        deps.logger.warn({ err: describeError(err) }, 'live listener failed');
      }
    }
    const errors = [kafka, postgres].filter((s) => !s.ok).map((s) => s.error ?? 'unknown');
    deps.onTick?.(Date.now() - started, errors);
  }

  function schedule(delayMs: number) {
    timer = setTimeout(() => {
      inFlight = tick()
        .catch((err) => deps.logger.error({ err: describeError(err) }, 'live tick failed'))
        .finally(() => {
          if (!stopped) schedule(Math.max(0, options.tickMs - (Date.now() % options.tickMs)));
        });
    }, delayMs);
  }
  schedule(0);

  return {
    latest: () => latest,
    history: () => [...points],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await kpiRefresh;
      listeners.clear();
    },
  };
}
