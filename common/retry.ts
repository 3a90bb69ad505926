import pRetry from 'p-retry';
import { isRetriable, RemoteError } from './errors.ts';

/**
 * The project's one retry helper, built on p-retry. Whether an error is worth retrying is read from
 * the error itself (`retriable` on the classes in common/errors.ts), never from its message:
 *
 * - a RemoteError with `retryAfterMs` (a 429 with Retry-After) waits exactly that long, without
 *   consuming the retry budget or growing the backoff: the server said when to come back;
 * - other retriable errors (5xx, timeouts, network errors, unparseable bodies) back off exponentially
 *   with jitter (p-retry's randomize: ×1–2), capped at `maxDelayMs`;
 * - everything else (400, 401, 404, bugs) is thrown at once.
 */
export interface RetryPolicy {
  /** retries for errors that back off; Retry-After waits do not count */
  retries: number;
  /** first backoff delay, before jitter */
  minDelayMs: number;
  /** no backoff delay is longer than this, jitter included */
  maxDelayMs: number;
  /** growth of the backoff per retry (default 2) */
  factor?: number;
  /** give up when the whole call (waits included) has taken this long (default: no limit) */
  maxElapsedMs?: number;
  /** a Retry-After longer than this is not waited for: the error is thrown (default: no limit) */
  maxRetryAfterMs?: number;
}

export interface RetryEvent {
  error: unknown;
  /** the attempt that failed (1 = the first call) */
  attempt: number;
  /** set when the wait is the server's Retry-After; otherwise the delay is p-retry's backoff */
  retryAfterMs?: number;
}

export interface RetryCall {
  /** stops waiting and retrying; the abort reason is thrown */
  signal?: AbortSignal;
  /** called before each retry (for logs and metrics) */
  onRetry?: (event: RetryEvent) => void;
}

export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  call: RetryCall = {},
): Promise<T> {
  return pRetry(fn, {
    retries: policy.retries,
    minTimeout: policy.minDelayMs,
    maxTimeout: policy.maxDelayMs,
    factor: policy.factor ?? 2,
    randomize: true,
    maxRetryTime: policy.maxElapsedMs ?? Number.POSITIVE_INFINITY,
    signal: call.signal,
    // A server-given wait is not a failure of ours: it neither uses up retries nor grows the backoff.
    shouldConsumeRetry: ({ error }) => retryAfterOf(error) === undefined,
    // Called only when p-retry is about to retry (budget and deadline checked), so this is where the
    // Retry-After wait goes: p-retry adds no delay of its own for retries that consume nothing.
    shouldRetry: async ({ error, attemptNumber }) => {
      if (!isRetriable(error)) return false;
      const retryAfterMs = retryAfterOf(error);
      if (retryAfterMs !== undefined) {
        if (retryAfterMs > (policy.maxRetryAfterMs ?? Number.POSITIVE_INFINITY)) return false;
        call.onRetry?.({ error, attempt: attemptNumber, retryAfterMs });
        await sleep(retryAfterMs, call.signal);
        return true;
      }
      call.onRetry?.({ error, attempt: attemptNumber });
      return true;
    },
  });
}

function retryAfterOf(error: unknown): number | undefined {
  return error instanceof RemoteError && error.retriable ? error.retryAfterMs : undefined;
}

/** An abortable wait on the global timer functions (so tests can use a fake clock). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Parses an HTTP Retry-After header (delta-seconds or an HTTP date) into milliseconds; undefined
 * when absent or unreadable, in which case the caller backs off instead.
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
