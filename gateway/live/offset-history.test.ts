import { describe, expect, it } from 'vitest';
import { createOffsetHistory } from './offset-history.ts';

const end = (high: number, low = 0) => [{ topic: 't', partition: 0, high, low }];

describe('offset history', () => {
  it('computes topic rates and increases from sampled end offsets', () => {
    const h = createOffsetHistory({ retainMs: 300_000 });
    h.record(0, end(0));
    expect(h.rate(['t'], 0, 5000)).toBeNull();
    h.record(1000, end(10));
    h.record(2000, end(30));
    expect(h.rate(['t'], 2000, 5000)).toBe(15);
    expect(h.increase('t', 2000, 60_000)).toBe(30);
    expect(h.rate(['missing'], 2000, 5000)).toBeNull();
  });

  it('interpolates the age of the oldest unconsumed message', () => {
    const h = createOffsetHistory({ retainMs: 300_000 });
    h.record(0, end(0));
    h.record(10_000, end(100)); // offsets 0..99 appended during (0 s, 10 s]
    h.record(20_000, end(100));
    // offset 49 is the 50th of 100: appended at 5 s, so 15 s old at 20 s
    expect(h.lag([{ topic: 't', partition: 0, offset: 49 }], 20_000)).toEqual({
      messages: 51,
      seconds: 15,
      secondsAtLeast: false,
    });
    expect(h.lag([{ topic: 't', partition: 0, offset: 100 }], 20_000)).toEqual({
      messages: 0,
      seconds: 0,
      secondsAtLeast: false,
    });
    // never committed: no lag to show
    expect(h.lag([{ topic: 't', partition: 0, offset: -1 }], 20_000).messages).toBe(0);
  });

  it('gives a lower bound when the message predates the history, and skips deleted offsets', () => {
    const h = createOffsetHistory({ retainMs: 300_000 });
    h.record(1000, end(500, 100));
    h.record(2000, end(500, 100));
    // committed 50 but the log starts at 100: 400 messages left, older than the first sample
    expect(h.lag([{ topic: 't', partition: 0, offset: 50 }], 4000)).toEqual({
      messages: 400,
      seconds: 3,
      secondsAtLeast: true,
    });
  });

  it('keeps one point older than the window so recent offsets still interpolate', () => {
    const h = createOffsetHistory({ retainMs: 10_000 });
    for (let t = 0; t <= 30_000; t += 1000) h.record(t, end(t < 25_000 ? 0 : 10));
    expect(h.lag([{ topic: 't', partition: 0, offset: 0 }], 30_000)).toEqual({
      messages: 10,
      seconds: 5.9,
      secondsAtLeast: false,
    });
  });
});
