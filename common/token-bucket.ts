/**
 * A token bucket per client (a burst of up to `capacity` requests, then a steady `refillPerSecond`),
 * written by hand: @fastify/rate-limit counts requests in fixed windows and only for HTTP routes.
 * Used by the mock source's /v1 API and the gateway's Socket.IO queries. The clock is injected so
 * tests are exact.
 */
export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface TokenBucket {
  take(key: string): TakeResult;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createTokenBucket(deps: {
  capacity: number;
  refillPerSecond: number;
  now: () => number;
  /** idle clients are forgotten beyond this many, so memory stays bounded */
  maxKeys?: number;
}): TokenBucket {
  const { capacity, refillPerSecond, now } = deps;
  const maxKeys = deps.maxKeys ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const level = (b: Bucket, t: number) =>
    // a clock that steps back must not drain tokens
    Math.min(capacity, b.tokens + (Math.max(0, t - b.at) / 1000) * refillPerSecond);

  function evict(t: number) {
    for (const [key, b] of buckets) {
      if (level(b, t) >= capacity) buckets.delete(key); // a full bucket is the same as no bucket
    }
    // still too many active clients: make room by dropping the oldest (Map keeps insertion order)
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  }

  return {
    take(key) {
      const t = now();
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) evict(t);
        b = { tokens: capacity, at: t };
        buckets.set(key, b);
      }
      b.tokens = level(b, t);
      b.at = Math.max(b.at, t);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / refillPerSecond)) };
    },
  };
}
