import { describe, expect, it } from 'vitest';
import { createTokenBucket } from './token-bucket.ts';

describe('token bucket', () => {
  it('allows a burst of `capacity`, then refuses with a Retry-After of at least 1 s', () => {
    const clock = { t: 0 };
    const bucket = createTokenBucket({ capacity: 3, refillPerSecond: 2, now: () => clock.t });
    expect([1, 2, 3].map(() => bucket.take('a').allowed)).toEqual([true, true, true]);
    expect(bucket.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('refills at the configured rate, never above capacity', () => {
    const clock = { t: 0 };
    const bucket = createTokenBucket({ capacity: 2, refillPerSecond: 4, now: () => clock.t });
    bucket.take('a');
    bucket.take('a');
    expect(bucket.take('a').allowed).toBe(false);
    clock.t += 250; // one token back
    expect(bucket.take('a').allowed).toBe(true);
    expect(bucket.take('a').allowed).toBe(false);
    clock.t += 60_000; // long idle: back to capacity, not 240 tokens
    expect([1, 2, 3].map(() => bucket.take('a').allowed)).toEqual([true, true, false]);
  });

  it('says how long to wait when the refill is slow', () => {
    const clock = { t: 0 };
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 0.1, now: () => clock.t });
    bucket.take('a');
    expect(bucket.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    clock.t += 4000;
    expect(bucket.take('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
  });

  it('keeps one bucket per client', () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 1, now: () => 0 });
    expect(bucket.take('a').allowed).toBe(true);
    expect(bucket.take('a').allowed).toBe(false);
    expect(bucket.take('b').allowed).toBe(true);
  });

  it('does not drain tokens when the clock steps back', () => {
    const clock = { t: 10_000 };
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 1, now: () => clock.t });
    bucket.take('a');
    clock.t = 5_000;
    expect(bucket.take('a').allowed).toBe(false);
    clock.t = 11_000; // one second after the last real take
    expect(bucket.take('a').allowed).toBe(true);
  });

  it('forgets idle clients beyond maxKeys, so memory stays bounded', () => {
    const clock = { t: 0 };
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 1, now: () => clock.t, maxKeys: 2 });
    bucket.take('a');
    bucket.take('b');
    bucket.take('c'); // a and b are drained, so the oldest (a) is dropped
    expect(bucket.take('a').allowed).toBe(true); // a fresh bucket
    expect(bucket.take('c').allowed).toBe(false); // c is still remembered
  });
});
