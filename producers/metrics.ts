import type client from 'prom-client';
import type { RoleMetrics } from '../common/metrics.ts';

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
  return {
    requests: metrics.counter('tributary_poller_requests_total', 'source requests', ['api', 'status']),
    rateLimited: metrics.counter('tributary_poller_http_429_total', 'source answers with 429', ['api']),
    retries: metrics.counter('tributary_poller_retries_total', 'page requests retried', ['api']),
    pages: metrics.counter('tributary_poller_pages_total', 'pages committed', ['api']),
    published: metrics.counter('tributary_poller_records_published_total', 'records published', ['api']),
    deadLettered: metrics.counter('tributary_poller_dlq_records_total', 'records sent to the DLQ', ['api']),
    duplicatesDropped: metrics.counter(
      'tributary_poller_duplicates_dropped_total',
      'versions fetched again (overlap window) and dropped',
      ['api'],
    ),
    errors: metrics.counter('tributary_poller_errors_total', 'failed walks by kind (source, client, kafka)', [
      'api',
      'kind',
    ]),
    behindSeconds: metrics.gauge(
      'tributary_poller_lag_seconds',
      'how far the poller is behind the source: age of the last version published while a walk is not done, 0 once it is',
      ['api'],
    ),
    lastSuccess: metrics.gauge(
      'tributary_poller_last_success_timestamp_seconds',
      'epoch seconds of the last walk that reached the end of the feed',
      ['api'],
    ),
    healthy: metrics.gauge('tributary_poller_healthy', '1 when the last walk succeeded, else 0', ['api']),
  } as PollerMetrics;
}
