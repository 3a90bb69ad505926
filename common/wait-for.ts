import { setTimeout as delay } from 'node:timers/promises';

export class WaitTimeoutError extends Error {}

/**
 * Polls `check` until it returns a truthy value or the deadline passes. The one way this project
 * waits for something (tests included): never a fixed sleep.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs: number; intervalMs?: number; what: string; signal?: AbortSignal },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new WaitTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await delay(opts.intervalMs ?? 200, undefined, { signal: opts.signal });
  }
}
