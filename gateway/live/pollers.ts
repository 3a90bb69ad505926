import type { PollerHealth } from '../events.ts';
import type { MetricsAggregator } from './metrics-aggregator.ts';
import { COUNTERS, GAUGES, THRESHOLDS } from './stages.ts';

/** One row per polled API (the `api` label), from the pollers' counters and gauges. */
export function pollerHealth(metrics: MetricsAggregator, now: number): PollerHealth[] {
  const names: string[] = [GAUGES.pollerHealthy, GAUGES.pollerLag, GAUGES.pollerLastSuccess, COUNTERS.polled];
  names.push(COUNTERS.pollerRequests, COUNTERS.poller429, COUNTERS.pollerRetries, COUNTERS.pollerDlq);
  const apis = [...new Set(names.flatMap((name) => metrics.labelValues(name, 'api', now)))].sort();
  return apis.map((api) => {
    const m = (name: string) => ({ name, labels: { api } });
    const healthy = metrics.gauge(m(GAUGES.pollerHealthy), now, 'min');
    const lastSuccess = metrics.gauge(m(GAUGES.pollerLastSuccess), now, 'max');
    return {
      api,
      healthy: healthy === null ? null : healthy >= 1,
      lagSeconds: metrics.gauge(m(GAUGES.pollerLag), now, 'max'),
      lastSuccessAt: lastSuccess === null ? null : lastSuccess * 1000,
      requestsPerSec: metrics.rate(m(COUNTERS.pollerRequests), now, THRESHOLDS.rateWindowMs),
      http429Total: metrics.total(m(COUNTERS.poller429), now),
      http429LastMinute: metrics.increase(m(COUNTERS.poller429), now, THRESHOLDS.recentWindowMs),
      retriesTotal: metrics.total(m(COUNTERS.pollerRetries), now),
      retriesLastMinute: metrics.increase(m(COUNTERS.pollerRetries), now, THRESHOLDS.recentWindowMs),
      dlqTotal: metrics.total(m(COUNTERS.pollerDlq), now),
    };
  });
}
