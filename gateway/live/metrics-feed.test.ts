import { describe, expect, it } from 'vitest';
import { parseSnapshot } from './metrics-feed.ts';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('metrics snapshot parsing', () => {
  it('accepts a snapshot as common/metrics.ts publishes it', () => {
    const s = { role: 'poller', instance: 'poller@h:1', at: 1, counters: { a: 1 }, gauges: {} };
    expect(parseSnapshot(buf(s))).toEqual(s);
  });

  it.each([
    ['no value', null],
    ['not JSON', buf('{')],
    ['no instance', buf({ role: 'r', at: 1, counters: {}, gauges: {} })],
    ['a string counter', buf({ role: 'r', instance: 'i', at: 1, counters: { a: '1' }, gauges: {} })],
    ['no gauges', buf({ role: 'r', instance: 'i', at: 1, counters: {} })],
  ])('skips %s', (_what, value) => {
    expect(parseSnapshot(value)).toBeUndefined();
  });
});
