import { counter, gauge } from './define.ts';

/** mock-source/: the stand-in for the external APIs (not part of the pipeline's data path). */
export const MOCK_SOURCE_METRICS = {
  versionsWritten: counter('mock_source_versions_total', 'Versions written', ['entity', 'malformed']),
  records: gauge('mock_source_records', 'Records in the source', ['entity']),
  ticksLate: counter(
    'mock_source_ticks_late_total',
    'Timer periods that found the previous tick still being written (their changes join the next tick)',
  ),
  ticksDropped: counter(
    'mock_source_ticks_dropped_total',
    'Timer periods whose changes were dropped: more than 10 owed (the machine or Postgres is too slow)',
  ),
  tickWriteFailures: counter(
    'mock_source_tick_write_failures_total',
    'Ticks that could not be written to the world store (written again before the next)',
  ),
  faultsInjected: counter('mock_source_faults_injected_total', 'Faults injected into /v1 answers, by kind', [
    'kind',
  ]),
  throttled: counter('mock_source_throttled_total', 'Requests refused by the token bucket'),
  httpRequests: counter('mock_source_http_requests_total', 'HTTP answers', ['route', 'status']),
} as const;
