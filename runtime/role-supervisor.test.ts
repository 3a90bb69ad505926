import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { waitFor } from '../common/wait-for.ts';
import type { RoleDefinition } from './role.ts';
import { createRoleSupervisor } from './role-supervisor.ts';

/** A role whose loop is stuck while `stuck.value` is true; it counts its starts and closes. */
function fakeRole(
  name: string,
  opts: { stuck: { value: boolean }; closeHangs?: boolean; healsOnRestart?: boolean },
) {
  const calls = { starts: 0, closes: 0 };
  const def: RoleDefinition = {
    name,
    description: 'a fake role',
    async start(ctx) {
      calls.starts++;
      if (calls.starts > 1 && opts.healsOnRestart) opts.stuck.value = false;
      const probe = ctx.liveness!.probe(`group ${name}`);
      probe.joined();
      // stuck: 10 messages wait and nothing is committed; else idle (never stalled, however slow
      // the machine is)
      const timer = setInterval(() => {
        if (opts.stuck.value) probe.waiting('t/0', 10);
        else {
          probe.progressed();
          probe.waiting('t/0', 0);
        }
      }, 5);
      return {
        metrics: [createRoleMetrics(name)],
        async close() {
          calls.closes++;
          clearInterval(timer);
          if (opts.closeHangs) await new Promise(() => undefined);
        },
      };
    },
  };
  return { def, calls };
}

function supervise(defs: RoleDefinition[], over: { closeTimeoutMs?: number } = {}) {
  const metrics: RoleMetrics[] = [];
  const events: string[] = [];
  const supervisor = createRoleSupervisor({
    defs,
    context: (_def, liveness) => ({ infra: {} as never, env: {}, logger: silentLogger(), liveness }),
    stall: { afterMs: 50, restartMs: 150 },
    metrics,
    log: silentLogger(),
    onStuckAlone: (role, reason) => events.push(`alone ${role}: ${reason}`),
    onStuckClose: (role) => events.push(`close ${role}`),
    checkEveryMs: 10,
    closeTimeoutMs: over.closeTimeoutMs ?? 1000,
  });
  return { supervisor, metrics, events };
}

describe('role supervisor', () => {
  it('names a stalled role in its readiness, restarts it in place, and is ready again', async () => {
    const stuck = { value: false };
    const a = fakeRole('a', { stuck, healsOnRestart: true });
    const b = fakeRole('b', { stuck: { value: false } });
    const { supervisor, metrics } = supervise([a.def, b.def]);
    await supervisor.start();
    expect(supervisor.readiness()).toEqual({
      ready: true,
      roles: { a: { stalled: false }, b: { stalled: false } },
    });
    expect(metrics.map((m) => m.role)).toEqual(['a', 'b']);
    expect(metrics[0]!.registry.getSingleMetric('tributary_role_stalled')).toBeDefined();

    stuck.value = true;
    const stalled = await waitFor(
      () => (supervisor.readiness().roles.a?.stalled ? supervisor.readiness() : null),
      {
        timeoutMs: 5000,
        intervalMs: 5,
        what: 'a to be reported stalled',
      },
    );
    expect(stalled.ready).toBe(false);
    expect(stalled.roles.a?.reason).toMatch(
      /^group a: no batch committed for \d+ s with 10 messages waiting$/,
    );
    expect(stalled.roles.b).toEqual({ stalled: false });

    await waitFor(() => a.calls.starts === 2, { timeoutMs: 5000, intervalMs: 5, what: 'a restarted' });
    expect(a.calls.closes).toBe(1);
    expect(b.calls).toEqual({ starts: 1, closes: 0 }); // the other role is left alone
    await waitFor(() => supervisor.readiness().ready, {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'ready again',
    });
    expect(supervisor.readiness().roles.a).toEqual({ stalled: false, restarts: 1 });
    // the restarted role's metrics replace the old ones
    expect(metrics.map((m) => m.role).sort()).toEqual(['a', 'b']);
    await supervisor.close();
    expect([a.calls.closes, b.calls.closes]).toEqual([2, 1]);
  });

  it('leaves the restart of a one-role process to its supervisor', async () => {
    const a = fakeRole('alone', { stuck: { value: true } });
    const { supervisor, events } = supervise([a.def]);
    await supervisor.start();
    await waitFor(() => events.length > 0, { timeoutMs: 5000, intervalMs: 5, what: 'the stuck callback' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^alone alone: stalled for \d+ s: group alone: no batch committed/);
    expect(a.calls.starts).toBe(1);
    await supervisor.close();
  });

  it('gives up on a stalled role that does not close', async () => {
    const a = fakeRole('a', { stuck: { value: true }, closeHangs: true });
    const b = fakeRole('b', { stuck: { value: false } });
    const { supervisor, events } = supervise([a.def, b.def], { closeTimeoutMs: 50 });
    await supervisor.start();
    await waitFor(() => events.includes('close a'), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'the close timeout',
    });
    expect(a.calls.starts).toBe(1);
    expect(supervisor.readiness()).toMatchObject({ ready: false, roles: { a: { stalled: true } } });
  });
});
