import { describe, expect, it } from 'vitest';
import {
  BRONZE_METRICS,
  counter,
  decodeSnapshot,
  encodeSnapshot,
  POLLER_METRICS,
  PROCESSOR_METRICS,
  sample,
} from '../contracts/metrics/index.ts';
import { createRoleMetrics } from './metrics.ts';

describe('role metrics from the catalog', () => {
  it('creates each metric once, with the definition name, help and labels', async () => {
    const m = createRoleMetrics('pollers');
    const requests = m.counter(POLLER_METRICS.requests);
    expect(m.counter(POLLER_METRICS.requests)).toBe(requests);
    requests.inc({ api: 'workspaces', status: '200' }, 2);
    // @ts-expect-error a label the definition does not have
    expect(() => requests.inc({ sink: 'x' })).toThrow();
    const text = await m.registry.metrics();
    expect(text).toContain(`# HELP ${POLLER_METRICS.requests.name} ${POLLER_METRICS.requests.help}`);
    expect(text).toContain(`# TYPE ${POLLER_METRICS.requests.name} counter`);
    expect(text).toContain('tributary_poller_requests_total{api="workspaces",status="200",role="pollers"} 2');
  });

  it('gives histograms their buckets and gauges a collect callback', async () => {
    const m = createRoleMetrics('bronze');
    m.histogram(BRONZE_METRICS.batchDuration).observe(0.2);
    m.gauge(PROCESSOR_METRICS.unresolvedJobs, {
      collect() {
        this.set(7);
      },
    });
    const text = await m.registry.metrics();
    expect(text).toContain('tributary_bronze_batch_duration_seconds_bucket{le="0.25",role="bronze"} 1');
    expect(text).toContain('tributary_processor_unresolved_jobs{role="bronze"} 7');
  });

  it('snapshots counters and gauges as structured samples (no role label, no histograms)', async () => {
    const m = createRoleMetrics('bronze');
    m.counter(BRONZE_METRICS.rowsWritten).inc({ topic: 'raw.a "quoted"' }, 5);
    m.gauge(PROCESSOR_METRICS.unresolvedJobs).set(3);
    m.histogram(BRONZE_METRICS.batchDuration).observe(1);
    m.counter(counter('plain_total', 'unlabelled')).inc();
    const s = await m.snapshot();
    expect(s).toMatchObject({ role: 'bronze', instance: m.instance });
    expect(s.counters).toEqual([
      sample(BRONZE_METRICS.rowsWritten, 5, { topic: 'raw.a "quoted"' }),
      { name: 'plain_total', labels: {}, value: 1 },
    ]);
    expect(s.gauges).toEqual([sample(PROCESSOR_METRICS.unresolvedJobs, 3)]);
    expect(decodeSnapshot(Buffer.from(encodeSnapshot(s)))).toEqual(s);
  });
});
