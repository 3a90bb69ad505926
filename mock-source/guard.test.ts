import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_HEADERS, type TestSource, testSource } from './test-helpers.ts';

let source: TestSource | undefined;
afterEach(async () => {
  await source?.app.close();
  source = undefined;
});

const small = { TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '3' };

async function setFaults(s: TestSource, faults: Record<string, number>) {
  const res = await s.app.inject({
    method: 'PUT',
    url: '/admin/faults',
    headers: ADMIN_HEADERS,
    payload: faults,
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('token bucket on /v1', () => {
  it('answers 429 with an integer Retry-After once a client’s burst is spent, per client address', async () => {
    source = testSource({
      ...small,
      TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: '3',
      TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: '0.5',
    });
    const get = (remoteAddress: string, clientId = 'poller') =>
      source!.app.inject({ url: '/v1/workspaces', remoteAddress, headers: { 'x-client-id': clientId } });
    for (let i = 0; i < 3; i++) expect((await get('10.0.0.1')).statusCode).toBe(200);
    const refused = await get('10.0.0.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('2'); // one token at 0.5/s
    expect(refused.json()).toMatchObject({ error: 'Too Many Requests' });
    // a new x-client-id per request does not get a new bucket: the address is the key
    for (const clientId of ['rotated-1', 'rotated-2', '']) {
      expect((await get('10.0.0.1', clientId)).statusCode).toBe(429);
    }
    expect((await get('10.0.0.2')).statusCode).toBe(200); // another address, its own bucket
    source.clock.t += 2000;
    expect((await get('10.0.0.1')).statusCode).toBe(200);
    expect((await get('10.0.0.1')).statusCode).toBe(429);
    // /admin and /healthz are not limited
    expect((await source.app.inject({ url: '/healthz', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    const stats = await source.app.inject({
      url: '/admin/stats',
      headers: ADMIN_HEADERS,
      remoteAddress: '10.0.0.1',
    });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toMatchObject({ requests: 10, throttled: 5 });
  });
});

describe('tokens', () => {
  it('accepts the Bearer scheme in any case, as every other server of Tributary does', async () => {
    source = testSource({ ...small, TRIBUTARY_MOCK_SOURCE_API_TOKEN: 'api-token-0123456789abcdef' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const api = await source.app.inject({
        url: '/v1/workspaces',
        headers: { authorization: `${scheme} api-token-0123456789abcdef` },
      });
      expect(api.statusCode, scheme).toBe(200);
      const admin = await source.app.inject({
        url: '/admin/stats',
        headers: { authorization: ADMIN_HEADERS.authorization.replace('Bearer', scheme) },
      });
      expect(admin.statusCode, scheme).toBe(200);
    }
    expect((await source.app.inject('/v1/workspaces')).statusCode).toBe(401);
    const wrong = { authorization: 'bearer wrong-token-0123456789' };
    expect((await source.app.inject({ url: '/v1/workspaces', headers: wrong })).statusCode).toBe(401);
  });
});

describe('fault knobs', () => {
  it('injects 429s with the configured Retry-After, and 5xx answers', async () => {
    source = testSource(small, { random: () => 0 });
    await setFaults(source, { rate429: 1, retryAfterSeconds: 7 });
    const throttled = await source.app.inject('/v1/workspaces');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('7');
    await setFaults(source, { rate429: 0, rate5xx: 1 });
    const failed = await source.app.inject('/v1/enrichment-jobs');
    expect(failed.statusCode).toBeGreaterThanOrEqual(500);
    expect(failed.json()).toMatchObject({ message: 'injected fault' });
    await setFaults(source, { rate5xx: 0 });
    expect((await source.app.inject('/v1/enrichment-jobs')).statusCode).toBe(200);
  });

  it('cuts 200 bodies off or replaces them with something that is not JSON', async () => {
    let next = 0;
    source = testSource(small, { random: () => next });
    const intact = await source.app.inject('/v1/workspaces');
    await setFaults(source, { rateTruncated: 1 });
    next = 0.1; // < 0.5: cut off
    const cut = await source.app.inject('/v1/workspaces');
    expect(cut.statusCode).toBe(200);
    expect(intact.body.startsWith(cut.body)).toBe(true);
    expect(cut.body.length).toBeLessThan(intact.body.length);
    expect(() => JSON.parse(cut.body)).toThrow();
    next = 0.9; // >= 0.5: not JSON at all
    const html = await source.app.inject('/v1/workspaces');
    expect(html.statusCode).toBe(200);
    expect(() => JSON.parse(html.body)).toThrow();
    // only 200s are broken: an error answer stays readable
    expect((await source.app.inject('/v1/workspaces?limit=0')).json().error).toBe('Bad Request');
  });

  it('delays slow responses by slowMs', async () => {
    const slept: number[] = [];
    source = testSource(small, {
      random: () => 0,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await setFaults(source, { rateSlow: 1, slowMs: 1234 });
    expect((await source.app.inject('/v1/workspaces')).statusCode).toBe(200);
    expect(slept).toEqual([1234]);
  });

  it('stores malformed records as flagged versions of the feed', async () => {
    source = testSource({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '10',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '10',
    });
    await setFaults(source, { rateMalformedRecord: 0.5 });
    for (let i = 0; i < 5; i++) source.tick();
    const versions = (
      await source.app.inject({ url: '/admin/versions/enrichment-jobs', headers: ADMIN_HEADERS })
    ).json() as Array<{ id: string; updated_at: string; malformed: boolean }>;
    const malformed = versions.filter((v) => v.malformed);
    expect(malformed.length).toBeGreaterThan(0);
    const feed = (await source.app.inject('/v1/enrichment-jobs?limit=500')).json().data as Array<
      Record<string, unknown>
    >;
    expect(feed.map((v) => `${v.updated_at}|${v.id}`)).toEqual(
      versions.map((v) => `${v.updated_at}|${v.id}`),
    );
    for (const m of malformed) {
      const body = feed.find((v) => v.id === m.id && v.updated_at === m.updated_at)!;
      const defective =
        typeof body.requested_count !== 'number' ||
        typeof body.enriched_count !== 'number' ||
        !('workspace_id' in body) ||
        !['queued', 'processing', 'completed', 'failed', 'canceled'].includes(String(body.status)) ||
        !['company', 'person'].includes(String(body.kind));
      expect(defective).toBe(true);
    }
    const stats = (await source.app.inject({ url: '/admin/stats', headers: ADMIN_HEADERS })).json();
    expect(stats.malformedVersions).toBeGreaterThanOrEqual(malformed.length);
  });
});

describe('admin API', () => {
  const routes = [
    ['GET', '/admin/faults'],
    ['PUT', '/admin/faults'],
    ['POST', '/admin/simulator/pause'],
    ['POST', '/admin/simulator/resume'],
    ['POST', '/admin/simulator/tick'],
    ['GET', '/admin/stats'],
    ['GET', '/admin/versions/workspaces'],
    ['GET', '/admin/versions/enrichment-jobs'],
  ] as const;

  it.each(routes)('answers 401 to %s %s without the admin token or with a wrong one', async (method, url) => {
    source = testSource(small);
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: 'Basic x' },
    ]) {
      const res = await source.app.inject({
        method,
        url,
        headers,
        payload: method === 'PUT' ? {} : undefined,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: 'Unauthorized' });
    }
  });

  it('pauses, resumes and ticks the simulator, and reports stats', async () => {
    source = testSource(small);
    const post = (url: string) => source!.app.inject({ method: 'POST', url, headers: ADMIN_HEADERS });
    expect((await post('/admin/simulator/resume')).json()).toEqual({ paused: false });
    expect(source.ticker.paused).toBe(false);
    expect((await post('/admin/simulator/pause')).json()).toEqual({ paused: true });
    const before = (await source.app.inject({ url: '/admin/stats', headers: ADMIN_HEADERS })).json();
    expect(before).toMatchObject({
      workspaces: 3,
      workspaceVersions: 3,
      paused: true,
      requests: 0,
      throttled: 0,
    });
    source.clock.t += 1000;
    const tick = (await post('/admin/simulator/tick')).json();
    expect(tick).toMatchObject({ at: new Date(source.clock.t).toISOString(), skipped: false });
    const after = (await source.app.inject({ url: '/admin/stats', headers: ADMIN_HEADERS })).json();
    expect(after.workspaceVersions + after.jobVersions).toBe(
      before.workspaceVersions + before.jobVersions + tick.versions,
    );
    expect((await post('/admin/simulator/tick')).json()).toMatchObject({ versions: 0, skipped: true });
  });

  it('validates fault settings and answers all of them', async () => {
    source = testSource(small);
    const res = await source.app.inject({
      method: 'PUT',
      url: '/admin/faults',
      headers: ADMIN_HEADERS,
      payload: { rate5xx: 1.5 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('rate5xx');
    expect(await setFaults(source, { rate5xx: 0.2 })).toEqual({ ...source.opts.faults, rate5xx: 0.2 });
  });
});
