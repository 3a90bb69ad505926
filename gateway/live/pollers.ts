import { type CounterDef, type GaugeDef, POLLER_METRICS } from '../../contracts/metrics/index.ts';
import type { PollerHealth } from '../events.ts';
import type { MetricsAggregator } from './metrics-aggregator.ts';
import { THRESHOLDS } from './stages.ts';

/** One row per polled API (the `api` label), from the pollers' counters and gauges. */
export function pollerHealth(metrics: MetricsAggregator, now: number): PollerHealth[] {
  const p = POLLER_METRICS;
  const shown = [p.healthy, p.behindSeconds, p.lastSuccess, p.published, p.requests, p.rateLimited];
  shown.push(p.retries, p.deadLettered);
  const apis = [...new Set(shown.flatMap((metric) => metrics.labelValues(metric, 'api', now)))].sort();
  return apis.map((api) => {
    const c = (metric: CounterDef<'api'> | CounterDef<'api' | 'status'>) => ({ metric, labels: { api } });
    const g = (metric: GaugeDef<'api'>) => ({ metric, labels: { api } });
    const healthy = metrics.gauge(g(p.healthy), now, 'min');
    const lastSuccess = metrics.gauge(g(p.lastSuccess), now, 'max');
    return {
      api,
      healthy: healthy === null ? null : healthy >= 1,
      lagSeconds: metrics.gauge(g(p.behindSeconds), now, 'max'),
      lastSuccessAt: lastSuccess === null ? null : lastSuccess * 1000,
      requestsPerSec: metrics.rate(c(p.requests), now, THRESHOLDS.rateWindowMs),
      http429Total: metrics.total(c(p.rateLimited), now),
      http429LastMinute: metrics.increase(c(p.rateLimited), now, THRESHOLDS.recentWindowMs),
      retriesTotal: metrics.total(c(p.retries), now),
      retriesLastMinute: metrics.increase(c(p.retries), now, THRESHOLDS.recentWindowMs),
      dlqTotal: metrics.total(c(p.deadLettered), now),
    };
  });
}
