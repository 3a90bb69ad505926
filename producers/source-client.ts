import { RemoteError } from '../common/errors.ts';
import { parseRetryAfter } from '../common/retry.ts';
import { APIS, type ApiName } from './apis.ts';

/**
 * HTTP client of the source's change-feed endpoints. It makes one request per call and turns every
 * failure into a RemoteError that says whether a retry can help; retrying is the caller's job
 * (common/retry.ts). Built on the fetch of Node (undici): no extra dependency for plain GETs.
 */
/** A failure of the source API (as opposed to Kafka or the registry): the poller keeps its session. */
export class SourceError extends RemoteError {}

export interface SourcePage {
  data: unknown[];
  nextCursor: string | null;
  /** the response's x-request-id, for lineage headers ('' when the source sent none) */
  requestId: string;
}

/** One request and its outcome, reported to `onExchange` (metrics, and tests measuring Retry-After). */
export interface SourceExchange {
  api: ApiName;
  url: string;
  startedAt: number;
  finishedAt: number;
  status?: number;
  requestId?: string;
  error?: SourceError;
}

export interface PageQuery {
  updatedSince?: string;
  cursor?: string | null;
  limit: number;
  signal?: AbortSignal;
}

export interface SourceClient {
  fetchPage(api: ApiName, query: PageQuery): Promise<SourcePage>;
}

export function createSourceClient(deps: {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  onExchange?: (exchange: SourceExchange) => void;
  fetch?: typeof fetch;
  now?: () => number;
}): SourceClient {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (deps.token) headers.authorization = `Bearer ${deps.token}`;

  async function request(
    api: ApiName,
    url: string,
    meta: { status?: number; requestId?: string },
    signal?: AbortSignal,
  ): Promise<SourcePage> {
    const timeout = AbortSignal.timeout(deps.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let body: string;
    try {
      response = await doFetch(url, { headers, signal: combined });
      body = await response.text();
    } catch (err) {
      // A stop request is not a source failure: let the abort reason through untouched.
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new SourceError(`${api}: no complete answer within ${deps.timeoutMs} ms`, undefined, {
          retriable: true,
          cause: err,
        });
      }
      throw new SourceError(`${api}: request failed: ${(err as Error).message}`, undefined, {
        retriable: true,
        cause: err,
      });
    }
    const requestId = response.headers.get('x-request-id') ?? '';
    meta.status = response.status;
    meta.requestId = requestId;
    const where = `${api} (request ${requestId || 'without id'})`;
    if (response.status === 429) {
      throw new SourceError(`${where}: rate limited (429)`, 429, {
        retriable: true,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), now()),
      });
    }
    if (response.status >= 500 || response.status === 408) {
      throw new SourceError(`${where}: server error ${response.status}`, response.status, {
        retriable: true,
      });
    }
    if (response.status !== 200) {
      // 400/401/403/404: the same request will fail again; it needs a fix, not a retry.
      const hint =
        response.status === 401 || response.status === 403 ? ' (check TRIBUTARY_SOURCE_TOKEN)' : '';
      throw new SourceError(`${where}: ${response.status} ${body.slice(0, 200)}${hint}`, response.status, {
        retriable: false,
      });
    }
    return { ...parsePage(where, body), requestId };
  }

  return {
    async fetchPage(api, query) {
      const url = new URL(`${deps.baseUrl}${APIS[api].path}`);
      url.searchParams.set('limit', String(query.limit));
      // The cursor already encodes the position (strictly after it), so it replaces updated_since.
      if (query.cursor) url.searchParams.set('cursor', query.cursor);
      else if (query.updatedSince) url.searchParams.set('updated_since', query.updatedSince);
      const startedAt = now();
      const meta: { status?: number; requestId?: string } = {};
      try {
        const page = await request(api, url.href, meta, query.signal);
        deps.onExchange?.({ api, url: url.href, startedAt, finishedAt: now(), ...meta });
        return page;
      } catch (err) {
        const error = err instanceof SourceError ? err : undefined;
        if (error) deps.onExchange?.({ api, url: url.href, startedAt, finishedAt: now(), ...meta, error });
        throw err;
      }
    },
  };
}

/** A 200 whose body is cut short or not a page is a transient fault: retried, never dropped. */
function parsePage(where: string, body: string): Omit<SourcePage, 'requestId'> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new SourceError(`${where}: unparseable body (${(err as Error).message})`, 200, {
      retriable: true,
      cause: err,
    });
  }
  const page = json as { data?: unknown; next_cursor?: unknown };
  const cursorOk = page?.next_cursor === null || typeof page?.next_cursor === 'string';
  if (typeof json !== 'object' || json === null || !Array.isArray(page.data) || !cursorOk) {
    throw new SourceError(`${where}: body is not a page ({ data: [], next_cursor })`, 200, {
      retriable: true,
    });
  }
  return { data: page.data, nextCursor: (page.next_cursor as string | null) || null };
}
