import { describe, expect, it } from 'vitest';
import { POLLER_METRICS, ROLE_METRICS } from './index.ts';
import { parseLegacyKey } from './legacy-snapshot.ts';
import { decodeSnapshot, encodeSnapshot, type MetricsSnapshot, sample, sampleSum } from './snapshot.ts';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

const structured: MetricsSnapshot = {
  role: 'pollers',
  instance: 'pollers@h:1',
  at: 1,
  counters: [
    sample(POLLER_METRICS.requests, 3, { api: 'workspaces', status: '200' }),
    sample(POLLER_METRICS.requests, 1, { api: 'workspaces', status: '429' }),
  ],
  gauges: [sample(ROLE_METRICS.stalled, 0)],
};

describe('metrics snapshots', () => {
  it('decodes what it encodes', () => {
    expect(decodeSnapshot(buf(encodeSnapshot(structured)))).toEqual(structured);
    expect(decodeSnapshot(encodeSnapshot(structured))).toEqual(structured);
  });

  it('reads the older `name{k="v"}` form into the same samples', () => {
    const legacy = {
      role: 'pollers',
      instance: 'pollers@h:1',
      at: 1,
      counters: {
        'tributary_poller_requests_total{api="workspaces",status="200"}': 3,
        'tributary_poller_requests_total{api="workspaces",status="429"}': 1,
      },
      gauges: { tributary_role_stalled: 0 },
    };
    expect(decodeSnapshot(buf(legacy))).toEqual(structured);
  });

  it('parses legacy keys, with and without labels', () => {
    expect(parseLegacyKey('a_total{api="x",sink="y"}')).toEqual({
      name: 'a_total',
      labels: { api: 'x', sink: 'y' },
    });
    expect(parseLegacyKey('plain')).toEqual({ name: 'plain', labels: {} });
    expect(parseLegacyKey('info{reason="a, b=c"}')).toEqual({ name: 'info', labels: { reason: 'a, b=c' } });
  });

  it.each([
    ['no value', null],
    ['not JSON', buf('{')],
    ['not an object', buf('3')],
    ['no instance', buf({ role: 'r', at: 1, counters: [], gauges: [] })],
    [
      'a string counter (old form)',
      buf({ role: 'r', instance: 'i', at: 1, counters: { a: '1' }, gauges: {} }),
    ],
    [
      'a sample without a number',
      buf({
        role: 'r',
        instance: 'i',
        at: 1,
        counters: [{ name: 'a', labels: {}, value: null }],
        gauges: [],
      }),
    ],
    [
      'a sample with a number label',
      buf({
        role: 'r',
        instance: 'i',
        at: 1,
        counters: [{ name: 'a', labels: { x: 1 }, value: 1 }],
        gauges: [],
      }),
    ],
    ['no gauges', buf({ role: 'r', instance: 'i', at: 1, counters: [] })],
  ])('skips %s', (_what, value) => {
    expect(decodeSnapshot(value)).toBeUndefined();
  });

  it('sums the series of one metric, filtered by label values', () => {
    const r = POLLER_METRICS.requests;
    expect(sampleSum(structured.counters, r)).toBe(4);
    expect(sampleSum(structured.counters, r, { status: '429' })).toBe(1);
    expect(sampleSum(structured.counters, r, { api: 'enrichment-jobs' })).toBeUndefined();
    expect(sampleSum(structured.gauges, ROLE_METRICS.stalled)).toBe(0);
  });
});
