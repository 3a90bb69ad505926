import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
