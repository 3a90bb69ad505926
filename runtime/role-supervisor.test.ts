import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { waitFor } from '../common/wait-for.ts';
import type { ClientFactory } from './clients.ts';
import type { RoleDefinition } from './role.ts';
import { createRoleSupervisor } from './role-supervisor.ts';

/**
 * A role whose loop is stuck while `stuck.value` is true; it counts its starts and closes, keeps
 * the options and the client factory of each start, and logs when it and its clients close.
 */
function fakeRole(
  name: string,
  opts: { stuck: { value: boolean }; closeHangs?: boolean; healsOnRestart?: boolean },
) {
  const calls = { starts: 0, closes: 0 };
  const factories: ClientFactory[] = [];
  const options: unknown[] = [];
  const log: string[] = [];
  const def: RoleDefinition<{ role: string }> = {
    name,
    description: 'a fake role',
    options: () => ({ role: name }),
    async start(ctx, o) {
      calls.starts++;
      factories.push(ctx.clients);
      options.push(o);
      const start = calls.starts;
      ctx.clients.track('a connection', {}, async () => log.push(`clients of start ${start} closed`));
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
          log.push(`start ${start} closed`);
          clearInterval(timer);
          if (opts.closeHangs) await new Promise(() => undefined);
        },
      };
    },
  };
  return { def, calls, factories, options, log };
}

function supervise(defs: RoleDefinition<{ role: string }>[], over: { closeTimeoutMs?: number } = {}) {
  const metrics: RoleMetrics[] = [];
  const events: string[] = [];
  const supervisor = createRoleSupervisor({
    // the options are read once, here, as run-roles does; a restart gets the same ones
    roles: defs.map((def) => ({ def, options: def.options({}) })),
    // no client of the fakes connects: the endpoints are never read
    context: (_def, liveness) => ({ infra: {} as never, instance: 'test', logger: silentLogger(), liveness }),
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
    // the restart got a new client factory and the same options; the old clients closed after the role
    expect(a.factories).toHaveLength(2);
    expect(a.factories[1]).not.toBe(a.factories[0]);
    expect(a.options).toEqual([{ role: 'a' }, { role: 'a' }]);
    expect(a.log).toEqual(['start 1 closed', 'clients of start 1 closed']);
    await supervisor.close();
    expect([a.calls.closes, b.calls.closes]).toEqual([2, 1]);
    expect(a.log.slice(2)).toEqual(['start 2 closed', 'clients of start 2 closed']);
    expect(b.log).toEqual(['start 1 closed', 'clients of start 1 closed']);
  });

  it('closes the clients a role opened when its start fails', async () => {
    const closed: string[] = [];
    const failing: RoleDefinition<{ role: string }> = {
      name: 'failing',
      description: 'a role whose start fails after it opened a client',
      options: () => ({ role: 'failing' }),
      async start(ctx) {
        ctx.clients.track('a connection', {}, async () => closed.push('a connection'));
        throw new Error('cannot start');
      },
    };
    const { supervisor } = supervise([failing]);
    await expect(supervisor.start()).rejects.toThrow('cannot start');
    expect(closed).toEqual(['a connection']);
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
