import { counter, gauge, histogram } from './define.ts';

/**
 * The metrics of the roles data flows through: pollers → bronze → processor → gold sinks. Names
 * and labels are what Prometheus scrapes, dashboards and users' alert rules read: renaming one is a
 * breaking change.
 */

/** producers/ — every series is labelled by the polled API. */
export const POLLER_METRICS = {
  requests: counter('tributary_poller_requests_total', 'source requests', ['api', 'status']),
  rateLimited: counter('tributary_poller_http_429_total', 'source answers with 429', ['api']),
  retries: counter('tributary_poller_retries_total', 'page requests retried', ['api']),
  pages: counter('tributary_poller_pages_total', 'pages committed', ['api']),
  published: counter('tributary_poller_records_published_total', 'records published', ['api']),
  deadLettered: counter('tributary_poller_dlq_records_total', 'records sent to the DLQ', ['api']),
  duplicatesDropped: counter(
    'tributary_poller_duplicates_dropped_total',
    'versions fetched again (overlap window) and dropped',
    ['api'],
  ),
  errors: counter('tributary_poller_errors_total', 'failed walks by kind (source, client, kafka)', [
    'api',
    'kind',
  ]),
  walkSummariesFailed: counter(
    'tributary_poller_walk_summaries_failed_total',
    'walks whose summary could not be built (end offsets unknown); their versions are not reconciled',
    ['api'],
  ),
  behindSeconds: gauge(
    'tributary_poller_lag_seconds',
    'how far the poller is behind the source: age of the last version published while a walk is not done, 0 once it is',
    ['api'],
  ),
  lastSuccess: gauge(
    'tributary_poller_last_success_timestamp_seconds',
    'epoch seconds of the last walk that reached the end of the feed',
    ['api'],
  ),
  healthy: gauge('tributary_poller_healthy', '1 when the last walk succeeded, else 0', ['api']),
} as const;

/** consumers/bronze/ — labelled by raw topic. */
export const BRONZE_METRICS = {
  rowsWritten: counter('tributary_bronze_rows_written_total', 'new rows written to bronze', ['topic']),
  deadLettered: counter('tributary_bronze_dlq_records_total', 'records sent to the DLQ', ['topic']),
  batches: counter('tributary_bronze_batches_total', 'batches committed', ['topic']),
  lastBatchLatency: gauge('tributary_bronze_batch_latency_seconds', 'latency of the last batch', ['topic']),
  // Buckets spelled out: prom-client fails when handed `buckets: undefined`.
  batchDuration: histogram('tributary_bronze_batch_duration_seconds', 'batch latency (decode to commit)', {
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
} as const;

/** consumers/processor/ */
export const PROCESSOR_METRICS = {
  goldRecords: counter('tributary_processor_gold_records_total', 'gold records emitted'),
  deadLettered: counter('tributary_processor_dlq_records_total', 'records sent to the gold DLQ'),
  unresolvedJobs: gauge('tributary_processor_unresolved_jobs', 'jobs whose workspace has not arrived yet'),
  restoreSeconds: gauge('tributary_processor_restore_seconds', 'duration of the last state restore'),
} as const;

/** consumers/gold-sinks/ — labelled by sink (postgres, mongo). */
export const GOLD_SINK_METRICS = {
  rowsWritten: counter('tributary_gold_rows_written_total', 'gold rows written', ['sink']),
  staleVersions: counter(
    'tributary_gold_stale_versions_total',
    'gold records not written because the store holds the same or a later record of the gold topic',
    ['sink'],
  ),
  deadLettered: counter('tributary_gold_dlq_records_total', 'gold records sent to the DLQ', ['sink']),
  batches: counter('tributary_gold_batches_total', 'gold batches committed', ['sink']),
} as const;
