import type client from 'prom-client';
import type { RoleMetrics } from '../common/metrics.ts';
import { POLLER_METRICS } from '../contracts/metrics/index.ts';

/** The pollers' metrics, all labelled by api (and requests also by HTTP status). */
export interface PollerMetrics {
  requests: client.Counter<'api' | 'status'>;
  rateLimited: client.Counter<'api'>;
  retries: client.Counter<'api'>;
  pages: client.Counter<'api'>;
  published: client.Counter<'api'>;
  deadLettered: client.Counter<'api'>;
  duplicatesDropped: client.Counter<'api'>;
  errors: client.Counter<'api' | 'kind'>;
  behindSeconds: client.Gauge<'api'>;
  lastSuccess: client.Gauge<'api'>;
  healthy: client.Gauge<'api'>;
}

export function createPollerMetrics(metrics: RoleMetrics): PollerMetrics {
  const m = POLLER_METRICS;
  return {
    requests: metrics.counter(m.requests),
    rateLimited: metrics.counter(m.rateLimited),
    retries: metrics.counter(m.retries),
    pages: metrics.counter(m.pages),
    published: metrics.counter(m.published),
    deadLettered: metrics.counter(m.deadLettered),
    duplicatesDropped: metrics.counter(m.duplicatesDropped),
    errors: metrics.counter(m.errors),
    behindSeconds: metrics.gauge(m.behindSeconds),
    lastSuccess: metrics.gauge(m.lastSuccess),
    healthy: metrics.gauge(m.healthy),
  };
}
