import type pg from 'pg';
import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { quoteQualified } from '../../common/pg-names.ts';
import { GATEWAY_METRICS } from '../../contracts/metrics/index.ts';
import { readOnly } from '../analytics/db.ts';
import type { LiveHub } from '../live/hub.ts';
import type { MetricsAggregator } from '../live/metrics-aggregator.ts';
import type { OffsetHistory } from '../live/offset-history.ts';
import { STAGE_ROLES } from '../live/stages.ts';
import { type AlertEngine, createAlertEngine } from './engine.ts';
import type { AlertView, RoleReadiness } from './kinds.ts';
import { createNotifier } from './notify.ts';
import type { AlertsConfig } from './rules.ts';

/** The roles whose readiness the gateway can see (through their metrics snapshots). */
const WATCHED_ROLES = [...new Set(Object.values(STAGE_ROLES).flat())];
const FRESHNESS_EVERY_MS = 10_000;

/**
 * The alerts inside the gateway: the engine evaluated after every live tick, on a view built from
 * what the gateway already has (the hub's update, the metrics aggregator, the offset history) plus
 * the gold freshness, read from the gold table every 10 s when a freshness rule exists.
 */
export interface Alerts {
  engine: AlertEngine;
  close(): Promise<void>;
}

export function startAlerts(deps: {
  config: AlertsConfig;
  hub: LiveHub;
  aggregator: MetricsAggregator;
  offsets: OffsetHistory;
  dlqTopics: string[];
  pool: pg.Pool;
  goldTable: string;
  metrics: RoleMetrics;
  logger: Logger;
  dashboardUrl?: () => string | undefined;
}): Alerts {
  const { config, logger } = deps;
  const transitions = deps.metrics.counter(GATEWAY_METRICS.alertTransitions);
  const deliveries = deps.metrics.counter(GATEWAY_METRICS.alertWebhookDeliveries);
  const firing = deps.metrics.gauge(GATEWAY_METRICS.alertsFiring);
  const notifier = createNotifier({
    webhooks: config.webhooks,
    logger,
    get dashboardUrl() {
      return deps.dashboardUrl?.();
    },
    onDelivery: (webhook, ok) => deliveries.inc({ webhook, outcome: ok ? 'delivered' : 'failed' }),
  });
  const engine = createAlertEngine({
    config,
    notifier,
    logger,
    onOutcome: (rule, kind) => transitions.inc({ rule, transition: kind }),
  });

  const seenRoles = new Set<string>();
  function roles(now: number): RoleReadiness[] {
    const out: RoleReadiness[] = [];
    for (const name of WATCHED_ROLES) {
      const view = deps.aggregator.role(name, now);
      if (view) seenRoles.add(name);
      if (!seenRoles.has(name)) continue; // never heard of: maybe not deployed, nothing to say
      out.push(
        view
          ? {
              role: name,
              freshInstances: view.freshInstances,
              lastReceivedAt: view.lastReceivedAt,
              stalled: view.stalled,
            }
          : { role: name, freshInstances: 0, lastReceivedAt: null, stalled: [] },
      );
    }
    return out;
  }

  let freshness: AlertView['freshness'] = null;
  let freshnessRead: Promise<void> | undefined;
  let freshnessAt = Number.NEGATIVE_INFINITY;
  const wantsFreshness = config.rules.some((r) => r.kind === 'freshness');
  function refreshFreshness(now: number) {
    if (!wantsFreshness || freshnessRead || now - freshnessAt < FRESHNESS_EVERY_MS) return;
    freshnessAt = now;
    freshnessRead = readFreshness(deps.pool, deps.goldTable)
      .then(
        (f) => {
          freshness = f;
        },
        (err) => {
          freshness = null;
          logger.warn({ err: describeError(err) }, 'gold freshness could not be read');
        },
      )
      .finally(() => {
        freshnessRead = undefined;
      });
  }

  const unsubscribe = deps.hub.subscribe((update) => {
    refreshFreshness(update.at);
    engine.evaluate({
      now: update.at,
      update,
      deadLettersPerMinute: deps.dlqTopics.map((topic) => ({
        topic,
        perMinute: deps.offsets.increase(topic, update.at, 60_000),
      })),
      roles: roles(update.at),
      freshness,
    });
    firing.set(engine.snapshot().active.filter((a) => a.state === 'firing').length);
  });

  return {
    engine,
    async close() {
      unsubscribe();
      await freshnessRead;
      await notifier.close();
    },
  };
}

/**
 * The worst source-change-to-gold time over the rows written in the last minute: `written_at` is
 * the sink's transaction time, the source change the newer of the job's and its workspace's
 * `updated_at` (a workspace change re-emits its jobs).
 */
async function readFreshness(
  pool: pg.Pool,
  table: string,
): Promise<{ seconds: number | null; rows: number }> {
  return readOnly(pool, async (c) => {
    const { rows } = await c.query<{ rows: number; seconds: number | null }>(
      `SELECT count(*)::int AS rows,
              max(extract(epoch FROM written_at - greatest(job_updated_at, coalesce(workspace_updated_at, job_updated_at))))::float8 AS seconds
         FROM ${quoteQualified(table)}
        WHERE written_at > now() - interval '1 minute'`,
    );
    const r = rows[0]!;
    return { rows: r.rows, seconds: r.seconds === null ? null : Math.max(0, r.seconds) };
  });
}
