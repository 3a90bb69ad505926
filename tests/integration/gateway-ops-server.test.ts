import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import { isLoopbackHost, type Readiness, startOpsServer } from '../../common/ops-server.ts';
import { counter } from '../../contracts/metrics/index.ts';

describe('ops server (common/ops-server.ts)', () => {
  it('serves /healthz, /readyz and the metrics of every role in one exposition', async () => {
    const a = createRoleMetrics('poller');
    const b = createRoleMetrics('bronze');
    const shared = counter('tributary_shared_total', 'shared name');
    a.counter(shared).inc(2);
    b.counter(shared).inc(5);
    let ready: Readiness | Error = false;
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      metrics: [a, b],
      ready: async () => {
        if (ready instanceof Error) throw ready;
        return ready;
      },
    });
    try {
      expect(await (await fetch(`${ops.url}/healthz`)).json()).toEqual({ status: 'ok' });
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
      ready = new Error('postgres down');
      const down = await fetch(`${ops.url}/readyz`);
      expect([down.status, await down.json()]).toEqual([
        503,
        { status: 'not ready', error: 'postgres down' },
      ]);
      // details (the stalled roles and why) are sent next to the status
      ready = { ready: false, roles: { bronze: { stalled: true, reason: 'no batch committed for 61 s' } } };
      const stalled = await fetch(`${ops.url}/readyz`);
      expect([stalled.status, await stalled.json()]).toEqual([
        503,
        { status: 'not ready', roles: { bronze: { stalled: true, reason: 'no batch committed for 61 s' } } },
      ]);
      const res = await fetch(`${ops.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text.match(/# TYPE tributary_shared_total counter/g)).toHaveLength(1);
      expect(text).toContain('tributary_shared_total{role="poller"} 2');
      expect(text).toContain('tributary_shared_total{role="bronze"} 5');
    } finally {
      await ops.close();
    }
  });

  it('needs a token off loopback, and then guards /metrics with it', async () => {
    await expect(
      startOpsServer({ host: '0.0.0.0', port: 0, metrics: [], ready: async () => true }),
    ).rejects.toThrow(ConfigError);
    expect([isLoopbackHost('127.0.0.5'), isLoopbackHost('[::1]'), isLoopbackHost('10.0.0.1')]).toEqual([
      true,
      true,
      false,
    ]);
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      metrics: [createRoleMetrics('x')],
      ready: async () => true,
      token: 'ops-token-0123456789',
    });
    try {
      expect((await fetch(`${ops.url}/metrics`)).status).toBe(401);
      const ok = await fetch(`${ops.url}/metrics`, {
        headers: { authorization: 'Bearer ops-token-0123456789' },
      });
      expect(ok.status).toBe(200);
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
    } finally {
      await ops.close();
    }
  });
});
