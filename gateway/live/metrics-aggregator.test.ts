import { describe, expect, it } from 'vitest';
import type { MetricsSnapshot } from '../../common/metrics.ts';
import { createMetricsAggregator, parseKey } from './metrics-aggregator.ts';

const snap = (
  instance: string,
  at: number,
  counters: Record<string, number>,
  gauges = {},
): MetricsSnapshot => ({
  role: 'r',
  instance,
  at,
  counters,
  gauges,
});

describe('metrics aggregator', () => {
  it('parses labelled keys', () => {
    expect(parseKey('a_total{api="x",sink="y"}')).toEqual({
      name: 'a_total',
      labels: { api: 'x', sink: 'y' },
    });
    expect(parseKey('plain')).toEqual({ name: 'plain', labels: {} });
  });

  it('sums per-instance rates, over labels, on each instance clock', () => {
    const m = createMetricsAggregator();
    // instance b's clock is 1 h off: rates only compare an instance with itself
    for (let i = 0; i <= 4; i++) {
      m.ingest(snap('a', 1000 * i, { 'c_total{api="x"}': 10 * i, 'c_total{api="y"}': 5 * i }), 10_000 + i);
      m.ingest(snap('b', 3_600_000 + 1000 * i, { 'c_total{api="x"}': 100 + 20 * i }), 10_000 + i);
    }
    const now = 10_010;
    expect(m.rate({ name: 'c_total' }, now)).toBe(35);
    expect(m.rate({ name: 'c_total', labels: { api: 'x' } }, now)).toBe(30);
    expect(m.total({ name: 'c_total' }, now)).toBe(40 + 20 + 180);
    expect(m.increase({ name: 'c_total', labels: { api: 'y' } }, now, 60_000)).toBe(20);
    expect(m.labelValues('c_total', 'api', now)).toEqual(['x', 'y']);
    expect(m.freshInstances(now)).toBe(2);
  });

  it('uses only the last window for rates', () => {
    const m = createMetricsAggregator();
    m.ingest(snap('a', 0, { c: 0 }), 0);
    m.ingest(snap('a', 10_000, { c: 1000 }), 0); // a burst long ago
    m.ingest(snap('a', 20_000, { c: 1010 }), 0);
    expect(m.rate({ name: 'c' }, 0, 5000)).toBeNull(); // one sample in the window: unknown
    m.ingest(snap('a', 22_000, { c: 1030 }), 0);
    expect(m.rate({ name: 'c' }, 0, 5000)).toBe(10);
  });

  it('forgets silent instances, ignores replays and never goes negative', () => {
    const m = createMetricsAggregator({ staleAfterMs: 15_000 });
    m.ingest(snap('a', 0, { c: 50 }, { g: 3 }), 0);
    m.ingest(snap('a', 1000, { c: 100 }, { g: 4 }), 1000);
    m.ingest(snap('a', 500, { c: 0 }), 1100); // replayed older snapshot
    expect(m.rate({ name: 'c' }, 2000)).toBe(50);
    m.ingest(snap('b', 0, { c: 10 }, { g: 9 }), 1000);
    expect(m.gauge({ name: 'g' }, 2000, 'sum')).toBe(13);
    expect(m.gauge({ name: 'g' }, 2000, 'max')).toBe(9);
    expect(m.gauge({ name: 'missing' }, 2000, 'min')).toBeNull();
    expect(m.reports('c', 2000)).toBe(true);
    expect(m.freshInstances(20_000)).toBe(0);
    expect(m.rate({ name: 'c' }, 20_000)).toBeNull();
    expect(m.reports('c', 20_000)).toBe(false);
    const r = createMetricsAggregator();
    r.ingest(snap('x', 0, { c: 100 }), 0);
    r.ingest(snap('x', 1000, { c: 0 }), 0); // reset within one instance name
    expect(r.rate({ name: 'c' }, 0)).toBe(0);
  });
});
