import http from 'node:http';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecentJobsReply } from '../../gateway/events.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { startTestGateway } from '../../gateway/testing.ts';
import { testInfra } from '../support/infra.ts';

const infra = testInfra();
const TOKEN = 'test-token-0123456789abcdef';
const ALLOWED = 'http://dashboard.example.test';

/** Resolves 'connected' or the connect_error message. */
function trySocket(url: string, opts: { token?: string; origin?: string }): Promise<string> {
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: opts.token ? { token: opts.token } : {},
    extraHeaders: opts.origin ? { origin: opts.origin } : {},
  });
  return new Promise<string>((resolve) => {
    socket.on('history', () => resolve('connected'));
    socket.on('connect_error', (err) => resolve(err.message));
  }).finally(() => socket.close());
}

/** GET with a chosen Host header (fetch does not let one set it): status, headers and body. */
function getWithHost(url: string, host: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.get(url, { headers: { ...headers, host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
    },
  );
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('gateway security', () => {
  let gateway: Gateway;
  let limited: Gateway;

  beforeAll(async () => {
    [gateway, limited] = await Promise.all([
      startTestGateway(infra, {
        TRIBUTARY_GATEWAY_TOKEN: TOKEN,
        TRIBUTARY_GATEWAY_CORS_ORIGINS: ALLOWED,
        TRIBUTARY_GATEWAY_LAG_GROUPS: 'none-watched',
      }),
      startTestGateway(infra, {
        TRIBUTARY_GATEWAY_RATE_LIMIT: '3',
        TRIBUTARY_GATEWAY_LAG_GROUPS: 'none-watched',
        TRIBUTARY_GATEWAY_ALLOWED_HOSTS: 'tributary.internal.test',
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway?.close(), limited?.close()]);
  });

  it('answers 401 on /api without the token and 200 with it', async () => {
    const url = `${gateway.url}/api/stats/status`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ statusCode: 401, message: expect.stringMatching(/token/) });
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(
      401,
    );
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ total: expect.any(Number) });
  });

  it('protects /metrics but leaves the probes open', async () => {
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });

  it('refuses sockets without the token and accepts them with it', async () => {
    expect(await trySocket(gateway.url, {})).toBe('unauthorized');
    expect(await trySocket(gateway.url, { token: 'wrong-token-0123456789' })).toBe('unauthorized');
    expect(await trySocket(gateway.url, { token: TOKEN })).toBe('connected');
  });

  it('applies the CORS allowlist to the API and the socket', async () => {
    const preflight = (origin: string) =>
      fetch(`${gateway.url}/api/stats/status`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    expect((await preflight(ALLOWED)).headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(
      (await preflight('http://elsewhere.example.test')).headers.get('access-control-allow-origin'),
    ).toBeNull();
    expect(await trySocket(gateway.url, { token: TOKEN, origin: ALLOWED })).toBe('connected');
    expect(await trySocket(gateway.url, { token: TOKEN, origin: 'http://elsewhere.example.test' })).not.toBe(
      'connected',
    );
  });

  it('rate-limits /api per client with a JSON 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${limited.url}/api/stats/status`)).status);
    const refused = await fetch(`${limited.url}/api/stats/status`);
    expect(await refused.json()).toMatchObject({ statusCode: 429, message: expect.any(String) });
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
  });

  it('limits live jobs:recent queries per client address, across its sockets', async () => {
    const open = () => {
      const socket = io(limited.url, { transports: ['websocket'], forceNew: true, reconnection: false });
      return new Promise<typeof socket>((resolve, reject) => {
        socket.on('history', () => resolve(socket));
        socket.on('connect_error', reject);
      });
    };
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const query = (s: typeof a): Promise<RecentJobsReply> =>
        s.timeout(10_000).emitWithAck('jobs:recent', { limit: 5 });
      const replies: RecentJobsReply[] = [];
      for (let i = 0; i < 4; i++) replies.push(await query(a));
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, false]);
      expect(replies[3]).toEqual({
        ok: false,
        error: expect.stringMatching(/^rate limit exceeded: retry in \d+ s$/),
      });
      // a second socket from the same address shares the budget
      expect(await query(b)).toMatchObject({ ok: false });
    } finally {
      a.close();
      b.close();
    }
  });

  it('answers only loopback and allowlisted host names without a token (DNS rebinding)', async () => {
    const port = new URL(limited.url).port;
    const url = `${limited.url}/healthz`;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `tributary.internal.test:${port}`]) {
      expect((await getWithHost(url, host)).status, host).toBe(200);
    }
    const rebound = await getWithHost(`${limited.url}/api/stats/status`, `attacker.example.test:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({
      statusCode: 403,
      message: expect.stringContaining('TRIBUTARY_GATEWAY_ALLOWED_HOSTS'),
    });
    expect((await getWithHost(`${limited.url}/`, `attacker.example.test:${port}`)).status).toBe(403);
    // the Socket.IO handshake too, which does not go through Fastify
    const handshake = `${limited.url}/socket.io/?EIO=4&transport=polling`;
    expect((await getWithHost(handshake, `127.0.0.1:${port}`)).status).toBe(200);
    expect((await getWithHost(handshake, `attacker.example.test:${port}`)).status).toBe(403);
    // with a token the name does not matter: the page does not have the token
    const tokenPort = new URL(gateway.url).port;
    const withToken = await getWithHost(`${gateway.url}/api/stats/status`, `dash.example.test:${tokenPort}`, {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(withToken.status).toBe(200);
  });

  it('sends a strict CSP, nosniff and no framing on every answer', async () => {
    for (const url of [
      `${limited.url}/`,
      `${limited.url}/api/stats/status`,
      `${limited.url}/docs`,
      `${limited.url}/healthz`,
      `${limited.url}/nope`,
    ]) {
      const res = await fetch(url);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), url).toBe('DENY');
    }
    const handshake = await fetch(`${limited.url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    expect(handshake.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps the API docs behind the token when one is set, with a login prompt for browsers', async () => {
    for (const path of ['/docs', '/docs/json']) {
      const none = await fetch(`${gateway.url}${path}`, { redirect: 'manual' });
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate'), path).toMatch(/^Basic realm=/);
      const wrong = await fetch(`${gateway.url}${path}`, {
        headers: { authorization: basic('me', 'wrong') },
      });
      expect(wrong.status, path).toBe(401);
      for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, basic('anyone', TOKEN)]) {
        const ok = await fetch(`${gateway.url}${path}`, { headers: { authorization }, redirect: 'manual' });
        expect(ok.status, `${path} ${authorization.split(' ')[0]}`).toBe(200);
      }
    }
    const spec = await fetch(`${gateway.url}/docs/json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await spec.json()).toMatchObject({ info: { title: 'Tributary gateway' } });
    // without a token the docs stay open, as the API does
    expect((await fetch(`${limited.url}/docs/json`)).status).toBe(200);
  });
});
