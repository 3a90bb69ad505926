import { setTimeout as delay } from 'node:timers/promises';
import { describeError, RemoteError } from '../common/errors.ts';
import { createLiveness, type Liveness, registerLivenessMetrics } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import { withRetry } from '../common/retry.ts';
import type { StallSettings } from './process-env.ts';
import type { RoleDefinition, RunningRole } from './role.ts';
import { startRole } from './start-role.ts';

/**
 * Starts the roles of one process and watches their liveness (common/liveness.ts): it says which
 * role is stalled and why (for /readyz), logs when a role stalls and when it recovers, and when a
 * role stays stalled for `stall.restartMs` it restarts it — close (the role, then its clients),
 * then start again with the same options but a fresh client factory and state, retried with
 * backoff until it starts. A process that runs one role leaves that to its supervisor instead
 * (`onStuckAlone`: the process exits non-zero), since a restart in place would only repeat what a
 * process restart does, without the supervisor knowing.
 */
export interface RoleReadiness {
  stalled: boolean;
  reason?: string;
  /** true while the role is being restarted after a stall */
  restarting?: boolean;
  /** restarts after a stall since the process started */
  restarts?: number;
}

export interface RoleSupervisor {
  /** starts the roles in order; on a failure closes those started and throws */
  start(): Promise<void>;
  readiness(): { ready: boolean; roles: Record<string, RoleReadiness> };
  /** the roles running now (a restart replaces one) */
  running(): RunningRole[];
  /** stops watching and closes every role, in reverse order; once */
  close(): Promise<void>;
}

/** A role to run, with its options (read once from the environment, before anything connects). */
export interface SupervisedRole {
  def: RoleDefinition;
  options: unknown;
}

interface Slot extends SupervisedRole {
  role?: RunningRole;
  liveness: Liveness;
  restarts: number;
  restarting?: { reason: string; lastError?: string };
  task?: Promise<void>;
  reportedStalled: boolean;
}

export function createRoleSupervisor(opts: {
  roles: readonly SupervisedRole[];
  /** what each start of a role gets; without `clients`, each start gets a new client factory */
  context: (def: RoleDefinition, liveness: Liveness) => Parameters<typeof startRole>[2];
  stall: StallSettings;
  /** kept in step with the running roles: the ops server renders it on each scrape */
  metrics: RoleMetrics[];
  log: Logger;
  /** a role of a one-role process stayed stalled past the restart limit */
  onStuckAlone: (role: string, reason: string) => void;
  /** a role could not be closed for a restart within closeTimeoutMs: only a process restart helps */
  onStuckClose: (role: string) => void;
  checkEveryMs?: number;
  closeTimeoutMs?: number;
}): RoleSupervisor {
  const { log, stall } = opts;
  const stop = new AbortController();
  const slots: Slot[] = opts.roles.map(({ def, options }) => ({
    def,
    options,
    liveness: createLiveness({ stallAfterMs: stall.afterMs }),
    restarts: 0,
    reportedStalled: false,
  }));
  let started = false;
  let gaveUp = false;
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  async function startSlot(slot: Slot): Promise<void> {
    slot.liveness = createLiveness({ stallAfterMs: stall.afterMs });
    const role = await startRole(slot.def, slot.options, opts.context(slot.def, slot.liveness));
    for (const m of role.metrics ?? []) registerLivenessMetrics(m, slot.liveness);
    opts.metrics.push(...(role.metrics ?? []));
    slot.role = role;
  }

  function dropMetrics(role: RunningRole): void {
    for (const m of role.metrics ?? []) {
      const i = opts.metrics.indexOf(m);
      if (i >= 0) opts.metrics.splice(i, 1);
    }
  }

  function restart(slot: Slot, reason: string): void {
    const name = slot.def.name;
    const old = slot.role!;
    slot.role = undefined;
    slot.restarting = { reason };
    dropMetrics(old);
    slot.task = (async () => {
      const closed = await Promise.race([
        old.close().then(
          () => true,
          (err) => {
            log.error({ role: name, err: describeError(err) }, `${name} did not close cleanly`);
            return true;
          },
        ),
        delay(opts.closeTimeoutMs ?? 30_000, false, { signal: stop.signal }),
      ]);
      if (!closed) {
        opts.onStuckClose(name);
        return;
      }
      await withRetry(
        async () => {
          try {
            await startSlot(slot);
          } catch (err) {
            throw new RemoteError(describeError(err), undefined, { retriable: true, cause: err });
          }
        },
        { retries: Number.POSITIVE_INFINITY, minDelayMs: 1000, maxDelayMs: 30_000 },
        {
          signal: stop.signal,
          onRetry: ({ error }) => {
            slot.restarting!.lastError = describeError(error);
            log.warn({ role: name, err: describeError(error) }, `${name} did not start again; retrying`);
          },
        },
      );
      slot.restarts++;
      log.info({ role: name, restarts: slot.restarts }, `${name} restarted after a stall`);
    })()
      .catch((err) => {
        if (!stop.signal.aborted)
          log.error({ role: name, err: describeError(err) }, `${name} restart failed`);
      })
      .finally(() => {
        slot.restarting = undefined;
        slot.task = undefined;
      });
  }

  function check(): void {
    if (!started || closing || gaveUp) return;
    for (const slot of slots) {
      if (!slot.role) continue;
      const name = slot.def.name;
      const { stalled, stuckForMs, reason } = slot.liveness.status();
      if (stalled && !slot.reportedStalled)
        log.error({ role: name, reason }, `${name} is stalled: ${reason}`);
      if (!stalled && slot.reportedStalled) log.info({ role: name }, `${name} makes progress again`);
      slot.reportedStalled = stalled;
      if (!stalled || stall.restartMs === 0 || stuckForMs < stall.restartMs) continue;
      const why = `stalled for ${Math.round(stuckForMs / 1000)} s: ${reason}`;
      if (slots.length === 1) {
        gaveUp = true;
        opts.onStuckAlone(name, why);
        return;
      }
      log.error({ role: name, reason: why }, `${name} ${why}; restarting it`);
      slot.reportedStalled = false;
      restart(slot, why);
    }
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      stop.abort(new Error('the process is stopping'));
      clearInterval(timer);
      for (const slot of [...slots].reverse()) {
        await slot.task;
        const role = slot.role;
        if (!role) continue;
        slot.role = undefined;
        await role
          .close()
          .catch((err) => log.error({ err: describeError(err) }, `${slot.def.name} did not close cleanly`));
      }
    })();
    return closing;
  }

  return {
    async start() {
      try {
        for (const slot of slots) {
          await startSlot(slot);
          log.info(`${slot.def.name} started${slot.role!.summary ? `: ${slot.role!.summary}` : ''}`);
        }
      } catch (err) {
        await close();
        throw err;
      }
      started = true;
      timer = setInterval(check, opts.checkEveryMs ?? 1000);
      timer.unref();
    },
    readiness() {
      const roles: Record<string, RoleReadiness> = {};
      let ready = started && closing === undefined;
      for (const slot of slots) {
        const restarts = slot.restarts > 0 ? { restarts: slot.restarts } : {};
        if (slot.restarting) {
          const { reason, lastError } = slot.restarting;
          const last = lastError ? `; last start error: ${lastError}` : '';
          roles[slot.def.name] = {
            stalled: true,
            restarting: true,
            reason: `restarting (${reason})${last}`,
            ...restarts,
          };
          ready = false;
          continue;
        }
        const { stalled, reason } = slot.liveness.status();
        roles[slot.def.name] = stalled ? { stalled, reason, ...restarts } : { stalled, ...restarts };
        if (stalled || !slot.role) ready = false;
      }
      return { ready, roles };
    },
    running: () => slots.flatMap((s) => (s.role ? [s.role] : [])),
    close,
  };
}
