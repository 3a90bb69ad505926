import { describe, expect, it } from 'vitest';
import {
  counter,
  gauge,
  type MetricSample,
  type MetricsSnapshot,
  ROLE_METRICS,
  sample,
} from '../../contracts/metrics/index.ts';
import { createMetricsAggregator } from './metrics-aggregator.ts';

// catalog-shaped definitions of the test's own: the aggregator knows no metric by name
const C = counter('c_total', 'a counter', ['api']);
const G = gauge('g', 'a gauge');
const MISSING = gauge('missing', 'never reported');
const GROUP = { c: C };

const s = (name: string, value: number, labels: Record<string, string> = {}): MetricSample => ({
  name,
  labels,
  value,
});
const snap = (instance: string, at: number, counters: MetricSample[], gauges: MetricSample[] = []) =>
  ({ role: 'r', instance, at, counters, gauges }) satisfies MetricsSnapshot;
const c = (value: number) => [s('c_total', value)];

describe('metrics aggregator', () => {
  it('sums per-instance rates, over labels, on each instance clock', () => {
    const m = createMetricsAggregator();
    // instance b's clock is 1 h off: rates only compare an instance with itself
    for (let i = 0; i <= 4; i++) {
      m.ingest(
        snap('a', 1000 * i, [s('c_total', 10 * i, { api: 'x' }), s('c_total', 5 * i, { api: 'y' })]),
        10_000 + i,
      );
      m.ingest(snap('b', 3_600_000 + 1000 * i, [s('c_total', 100 + 20 * i, { api: 'x' })]), 10_000 + i);
    }
    const now = 10_010;
    expect(m.rate({ metric: C }, now)).toBe(35);
    expect(m.rate({ metric: C, labels: { api: 'x' } }, now)).toBe(30);
    expect(m.total({ metric: C }, now)).toBe(40 + 20 + 180);
    expect(m.increase({ metric: C, labels: { api: 'y' } }, now, 60_000)).toBe(20);
    expect(m.labelValues(C, 'api', now)).toEqual(['x', 'y']);
    expect(m.freshInstances(now)).toBe(2);
  });

  it('uses only the last window for rates', () => {
    const m = createMetricsAggregator();
    m.ingest(snap('a', 0, c(0)), 0);
    m.ingest(snap('a', 10_000, c(1000)), 0); // a burst long ago
    m.ingest(snap('a', 20_000, c(1010)), 0);
    expect(m.rate({ metric: C }, 0, 5000)).toBeNull(); // one sample in the window: unknown
    m.ingest(snap('a', 22_000, c(1030)), 0);
    expect(m.rate({ metric: C }, 0, 5000)).toBe(10);
  });

  it('forgets silent instances, ignores replays and never goes negative', () => {
    const m = createMetricsAggregator({ staleAfterMs: 15_000 });
    m.ingest(snap('a', 0, c(50), [s('g', 3)]), 0);
    m.ingest(snap('a', 1000, c(100), [s('g', 4)]), 1000);
    m.ingest(snap('a', 500, c(0)), 1100); // replayed older snapshot
    expect(m.rate({ metric: C }, 2000)).toBe(50);
    m.ingest(snap('b', 0, c(10), [s('g', 9)]), 1000);
    expect(m.gauge({ metric: G }, 2000, 'sum')).toBe(13);
    expect(m.gauge({ metric: G }, 2000, 'max')).toBe(9);
    expect(m.gauge({ metric: MISSING }, 2000, 'min')).toBeNull();
    expect(m.reports(GROUP, 2000)).toBe(true);
    expect(m.reports({ missing: MISSING }, 2000)).toBe(false);
    expect(m.lastReportedAt(GROUP)).toBe(1100);
    expect(m.freshInstances(20_000)).toBe(0);
    expect(m.rate({ metric: C }, 20_000)).toBeNull();
    expect(m.reports(GROUP, 20_000)).toBe(false);
    const r = createMetricsAggregator();
    r.ingest(snap('x', 0, c(100)), 0);
    r.ingest(snap('x', 1000, c(0)), 0); // reset within one instance name
    expect(r.rate({ metric: C }, 0)).toBe(0);
  });

  it('tells which instances of a role are stalled and why', () => {
    const m = createMetricsAggregator();
    const { stalled, stallInfo } = ROLE_METRICS;
    const why = [sample(stalled, 1), sample(stallInfo, 1, { reason: 'no commit' })];
    m.ingest({ ...snap('b1', 0, [], why), role: 'bronze' }, 0);
    m.ingest({ ...snap('b2', 0, [], [sample(stalled, 0)]), role: 'bronze' }, 0);
    m.ingest({ ...snap('b3', 0, [], [sample(stalled, 1)]), role: 'bronze' }, 0);
    expect(m.role('bronze', 1000)).toEqual({
      role: 'bronze',
      freshInstances: 3,
      lastReceivedAt: 0,
      stalled: [
        { instance: 'b1', reason: 'no commit' },
        { instance: 'b3', reason: 'stalled (no reason given)' },
      ],
    });
    expect(m.role('processor', 1000)).toBeNull();
  });
});
