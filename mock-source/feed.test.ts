import { afterEach, describe, expect, it } from 'vitest';
import { encodeCursor } from './cursor.ts';
import { ADMIN_HEADERS, START, type TestSource, testSource, versionKey } from './test-helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
type Version = { id: string; updated_at: string; [k: string]: unknown };

let source: TestSource | undefined;
afterEach(async () => {
  await source?.app.close();
  source = undefined;
});

async function adminVersions(s: TestSource, path: string): Promise<Version[]> {
  const res = await s.app.inject({ url: `/admin/versions/${path}`, headers: ADMIN_HEADERS });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe.each(['workspaces', 'enrichment-jobs'])('GET /v1/%s', (path) => {
  it('walks every version that existed at the start, in (updated_at, id) order, while the simulator ticks', async () => {
    source = testSource({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '25',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '6',
    });
    for (let i = 0; i < 5; i++) source.tick();
    const atStart = await adminVersions(source, path);
    const seen: Version[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await source.app.inject({
        url: `/v1/${path}`,
        query: cursor ? { limit: '20', cursor } : { limit: '20' },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { data: Version[]; next_cursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(20);
      seen.push(...body.data);
      cursor = body.next_cursor;
      source.tick(); // the world changes between pages: updated records get new versions
      pages++;
    } while (cursor !== null && pages < 500);
    expect(cursor).toBeNull();

    const keys = seen.map(versionKey);
    expect([...keys].sort()).toEqual(keys); // (updated_at, id) ascending, so no version twice
    expect(new Set(keys).size).toBe(keys.length);
    const seenKeys = new Set(keys);
    expect(atStart.filter((v) => !seenKeys.has(versionKey(v)))).toEqual([]);
    const all = new Set((await adminVersions(source, path)).map(versionKey));
    expect(keys.filter((k) => !all.has(k))).toEqual([]);
    // the walk met records again: their versions written after it started
    const ids = seen.map((v) => v.id);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect(seen.length).toBeGreaterThan(atStart.length);
    for (const v of seen) {
      expect(v.id).toMatch(UUID);
      expect(v.updated_at).toMatch(ISO_MS);
    }
  });

  it('filters by updated_since (exclusive) and carries the filter in the cursor', async () => {
    source = testSource({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '25',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '6',
    });
    for (let i = 0; i < 6; i++) source.tick();
    const since = new Date(START + 3000).toISOString(); // a tick instant: its versions are excluded
    const expected = (await adminVersions(source, path)).filter((v) => v.updated_at > since).map(versionKey);
    expect(expected.length).toBeGreaterThan(2);
    const first = await source.app.inject({
      url: `/v1/${path}`,
      query: { updated_since: since, limit: '2' },
    });
    const page1 = first.json() as { data: Version[]; next_cursor: string };
    const rest = await source.app.inject({
      url: `/v1/${path}`,
      query: { cursor: page1.next_cursor, limit: '500' },
    });
    const page2 = rest.json() as { data: Version[]; next_cursor: string | null };
    expect(page2.next_cursor).toBeNull();
    expect([...page1.data, ...page2.data].map(versionKey)).toEqual(expected);
  });

  it('returns a null next_cursor when a full page reaches the end', async () => {
    source = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '5' });
    const total = (await adminVersions(source, path)).length;
    const res = await source.app.inject({ url: `/v1/${path}`, query: { limit: String(total) } });
    expect(res.json().data).toHaveLength(total);
    expect(res.json().next_cursor).toBeNull();
    const empty = await source.app.inject({
      url: `/v1/${path}`,
      query: { updated_since: new Date(START).toISOString() },
    });
    expect(empty.json()).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '501' }],
    ['limit', { limit: 'ten' }],
    ['updated_since', { updated_since: 'yesterday' }],
    ['updated_since', { updated_since: '2026-11-22' }],
    ['cursor', { cursor: 'not a cursor' }],
    ['cursor', { cursor: Buffer.from('{"v":1}').toString('base64url') }],
  ])('answers 400 naming %s for %j', async (param, query) => {
    source = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '1' });
    const res = await source.app.inject({ url: `/v1/${path}`, query });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('Bad Request');
    expect(body.message).toContain(param);
  });

  it('serves the latest version of one record, 404 for an unknown id, 400 for a non-uuid', async () => {
    source = testSource({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '10',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '20',
    });
    for (let i = 0; i < 10; i++) source.tick();
    const versions = await adminVersions(source, path);
    const latest = new Map(versions.map((v) => [v.id, v.updated_at]));
    for (const [id, updatedAt] of [...latest].slice(0, 5)) {
      const res = await source.app.inject(`/v1/${path}/${id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id, updated_at: updatedAt });
    }
    const unknown = await source.app.inject(`/v1/${path}/00000000-0000-4000-8000-000000000000`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'Not Found' });
    const bad = await source.app.inject(`/v1/${path}/42`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('id');
  });
});

describe('API surface', () => {
  it('puts a fresh uuid x-request-id on every answer, errors included', async () => {
    source = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '1' });
    const ids = new Set<string>();
    for (const url of ['/v1/workspaces', '/v1/workspaces?limit=0', '/nope', '/healthz', '/admin/stats']) {
      const res = await source.app.inject({ url, headers: { 'x-request-id': 'client-chosen' } });
      expect(res.headers['x-request-id']).toMatch(UUID);
      ids.add(String(res.headers['x-request-id']));
    }
    expect(ids.size).toBe(5);
  });

  it('requires the API token on /v1 when one is configured', async () => {
    const token = 'api-token-0123456789abcdef';
    source = testSource({
      TRIBUTARY_MOCK_SOURCE_API_TOKEN: token,
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '1',
    });
    expect((await source.app.inject('/v1/workspaces')).statusCode).toBe(401);
    const wrong = await source.app.inject({
      url: '/v1/workspaces',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('Unauthorized');
    const ok = await source.app.inject({
      url: '/v1/workspaces',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect((await source.app.inject('/healthz')).statusCode).toBe(200);
  });

  it('accepts a cursor position that is not a version, e.g. one from an earlier run', async () => {
    source = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '3' });
    source.tick();
    const cursor = encodeCursor({ updatedAt: START, id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' });
    const res = await source.app.inject({ url: '/v1/workspaces', query: { cursor } });
    const expected = (await adminVersions(source, 'workspaces')).filter(
      (v) => v.updated_at > new Date(START).toISOString(),
    );
    expect(res.json().data.map(versionKey)).toEqual(expected.map(versionKey));
  });

  it('serves the OpenAPI document, health and metrics', async () => {
    source = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '1' });
    await source.app.inject('/v1/workspaces');
    const doc = (await source.app.inject('/docs/json')).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/workspaces',
        '/v1/workspaces/{id}',
        '/v1/enrichment-jobs',
        '/admin/faults',
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Workspace', 'EnrichmentJob']),
    );
    expect((await source.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const metrics = await source.app.inject('/metrics');
    expect(metrics.body).toMatch(
      /mock_source_http_requests_total\{route="\/v1\/workspaces",status="200",role="mock-source"\} 1/,
    );
    expect(metrics.body).toMatch(
      /mock_source_versions_total\{entity="workspace",malformed="false",role="mock-source"\} 1/,
    );
  });
});
