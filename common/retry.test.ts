import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemoteError } from './errors.ts';
import { parseRetryAfter, type RetryPolicy, withRetry } from './retry.ts';

// Tests of common/retry.ts (the pollers are its first user), on a fake clock.
const policy: RetryPolicy = { retries: 6, minDelayMs: 100, maxDelayMs: 400 };
const rateLimited = (ms: number) => new RemoteError('429', 429, { retriable: true, retryAfterMs: ms });
const serverError = () => new RemoteError('503', 503, { retriable: true });

/** Runs fn under withRetry with a fake clock; returns the result (or error) and the attempt times. */
async function run(
  fail: (attempt: number) => Error | undefined,
  p: RetryPolicy = policy,
  signal?: AbortSignal,
) {
  const times: number[] = [];
  const retries: Array<number | undefined> = [];
  const result = withRetry(
    async (attempt) => {
      times.push(Date.now());
      const err = fail(attempt);
      if (err) throw err;
      return 'ok';
    },
    p,
    { signal, onRetry: (e) => retries.push(e.retryAfterMs) },
  ).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  return { ...(await result), times, gaps, retries };
}

describe('withRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits exactly Retry-After after a 429, without using up retries', async () => {
    const r = await run((n) => (n <= 8 ? rateLimited(1500) : undefined), { ...policy, retries: 1 });
    expect(r).toMatchObject({ value: 'ok' });
    expect(r.gaps).toEqual(Array(8).fill(1500));
    expect(r.retries).toEqual(Array(8).fill(1500));
  });

  it('backs off exponentially with jitter on 5xx, capped at maxDelayMs, then gives up', async () => {
    const r = await run(() => serverError());
    expect(r).toMatchObject({ error: expect.any(RemoteError) });
    expect(r.times).toHaveLength(7); // the call and 6 retries
    r.gaps.forEach((gap, i) => {
      const base = Math.min(100 * 2 ** i, 400);
      expect(gap).toBeGreaterThanOrEqual(base);
      expect(gap).toBeLessThanOrEqual(Math.min(2 * base, 400));
    });
    expect(r.gaps.slice(2)).toEqual([400, 400, 400, 400]);
  });

  it('does not retry 400, 401 or 404, nor errors that do not say they are retriable', async () => {
    for (const err of [
      new RemoteError('400', 400, { retriable: false }),
      new RemoteError('401', 401, { retriable: false }),
      new RemoteError('404', 404),
      new Error('a bug'),
    ]) {
      const r = await run(() => err);
      expect(r).toEqual(expect.objectContaining({ error: err }));
      expect(r.times).toHaveLength(1);
    }
  });

  it('mixes 429 waits and backoff: only the backoff counts against the budget', async () => {
    // attempts 1, 3, 5: 429; 2, 4: 503; 6: ok. Once the budget is spent, any failure ends the call.
    const r = await run((n) => (n % 2 === 1 ? rateLimited(1000) : n < 6 ? serverError() : undefined), {
      ...policy,
      retries: 3,
    });
    expect(r).toMatchObject({ value: 'ok' });
    expect(r.gaps.filter((_, i) => i % 2 === 0)).toEqual([1000, 1000, 1000]);
    const budgetSpent = await run((n) => (n % 2 === 1 ? rateLimited(1000) : serverError()), {
      ...policy,
      retries: 3,
    });
    expect(budgetSpent.times).toHaveLength(7);
  });

  it('throws at once when Retry-After exceeds maxRetryAfterMs', async () => {
    const r = await run(() => rateLimited(120_000), { ...policy, maxRetryAfterMs: 60_000 });
    expect(r).toMatchObject({ error: expect.any(RemoteError) });
    expect(r.times).toHaveLength(1);
  });

  it('stops waiting when aborted', async () => {
    const stop = new AbortController();
    const reason = new Error('stopping');
    // On the fake clock of this file: the abort fires 500 ms (fake) into a 10 s Retry-After wait.
    const abortAfterMs = 500;
    setTimeout(() => stop.abort(reason), abortAfterMs);
    const r = await run(() => rateLimited(10_000), policy, stop.signal);
    expect(r).toEqual(expect.objectContaining({ error: reason }));
    expect(Date.now() - r.times[0]!).toBe(abortAfterMs);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('1')).toBe(1000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('2015-10-21T07:28:00Z'))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
