import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSource, startFakeSource } from '../tests/support/poller-fake-source.ts';
import { createSourceClient, SourceError, type SourceExchange } from './source-client.ts';

let source: FakeSource;
const exchanges: SourceExchange[] = [];
// A generous timeout: the fake source runs in this worker, and on a busy machine its answer can take
// seconds; only the timeout test uses a short one (against a source that answers far later).
const client = (timeoutMs = 10_000) =>
  createSourceClient({
    baseUrl: source.url,
    token: 't0k',
    timeoutMs,
    onExchange: (e) => exchanges.push(e),
  });

beforeAll(async () => {
  source = await startFakeSource();
  source.versions.workspaces = [1, 2, 3].map((i) => ({
    id: `w${i}`,
    updated_at: `2024-05-02T12:00:0${i}.000Z`,
  }));
});
afterAll(() => source.close());
beforeEach(() => {
  exchanges.length = 0;
  source.faults.length = 0;
  source.requests.length = 0;
});

async function failure(promise: Promise<unknown>): Promise<SourceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('source client', () => {
  it('fetches a page with the token, updated_since or the cursor, and the request id', async () => {
    const first = await client().fetchPage('workspaces', {
      limit: 2,
      updatedSince: '2024-05-02T12:00:00.000Z',
    });
    expect(first.data.map((r) => (r as { id: string }).id)).toEqual(['w1', 'w2']);
    expect(first.requestId).toMatch(/^req-/);
    const second = await client().fetchPage('workspaces', { limit: 2, cursor: first.nextCursor });
    expect(second).toMatchObject({ data: [{ id: 'w3' }], nextCursor: null });
    expect(source.requests[0]).toMatchObject({ authorization: 'Bearer t0k' });
    expect(source.requests[0]!.url).toContain('updated_since=2024-05-02T12%3A00%3A00.000Z');
    expect(source.requests[1]!.url).not.toContain('updated_since');
    expect(exchanges.map((e) => e.status)).toEqual([200, 200]);
  });

  it('classifies 429 (with Retry-After), 5xx, and 400/401/404', async () => {
    source.faults.push({ status: 429, retryAfter: '2' }, { status: 503 }, { status: 404 }, { status: 401 });
    const c = client();
    expect(await failure(c.fetchPage('workspaces', { limit: 1 }))).toMatchObject({
      status: 429,
      retriable: true,
      retryAfterMs: 2000,
    });
    expect(await failure(c.fetchPage('workspaces', { limit: 1 }))).toMatchObject({
      status: 503,
      retriable: true,
    });
    expect(await failure(c.fetchPage('workspaces', { limit: 1 }))).toMatchObject({
      status: 404,
      retriable: false,
    });
    const unauthorized = await failure(c.fetchPage('workspaces', { limit: 1 }));
    expect(unauthorized).toMatchObject({ status: 401, retriable: false });
    expect(unauthorized.message).toContain('TRIBUTARY_SOURCE_TOKEN');
    expect(exchanges.map((e) => e.status)).toEqual([429, 503, 404, 401]);
    expect(exchanges[0]!.requestId).toMatch(/^req-/);
  });

  it('treats truncated or non-page bodies, timeouts and refused connections as retriable', async () => {
    source.faults.push({ body: '{"data":[{"id":"w1"' }, { body: '{"items":[]}' }, { delayMs: 1000 });
    const c = client();
    expect((await failure(c.fetchPage('workspaces', { limit: 1 }))).message).toMatch(/unparseable body/);
    expect((await failure(c.fetchPage('workspaces', { limit: 1 }))).message).toMatch(/not a page/);
    expect(await failure(client(300).fetchPage('workspaces', { limit: 1 }))).toMatchObject({
      retriable: true,
      message: expect.stringMatching(/no complete answer within 300 ms/),
    });
    const refused = createSourceClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 });
    expect(await failure(refused.fetchPage('workspaces', { limit: 1 }))).toMatchObject({ retriable: true });
  });

  it('gives up at once, with the abort reason, when the caller stops', async () => {
    source.faults.push({ delayMs: 1000 });
    const stop = new AbortController();
    const reason = new Error('stopping');
    const pending = client().fetchPage('workspaces', { limit: 1, signal: stop.signal });
    stop.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
