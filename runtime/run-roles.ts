import { setTimeout as delay } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import { readEnv } from '../common/env.ts';
import { describeError } from '../common/errors.ts';
import { instanceId } from '../common/instance.ts';
import { createLogger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import { startOpsServer } from '../common/ops-server.ts';
import { infraOptions } from './endpoints.ts';
import { ProcessEnv, stallSettings } from './process-env.ts';
import type { RoleDefinition, RunningRole } from './role.ts';
import { createRoleSupervisor } from './role-supervisor.ts';

/** The exit code of a one-role process whose role stayed stalled: its supervisor restarts it. */
export const EXIT_STALLED = 3;

/**
 * Runs roles in this process until SIGINT/SIGTERM: reads every role's options, starts the roles in
 * order (each with a client factory of its own), then on a signal closes each once, in reverse
 * order (each finishes its batch in flight and commits, then its clients close), within a deadline.
 * Meanwhile /readyz says whether every role progresses (and which does not, and why), and a role
 * stalled past TRIBUTARY_STALL_RESTART_MS restarts (runtime/role-supervisor.ts): in place when the
 * process runs several roles, by exiting with EXIT_STALLED for its supervisor when it runs one.
 * Used by `tributary start` and by the one-role process entries (`<role>/process.ts`).
 */
export async function runRolesProcess(
  roles: readonly RoleDefinition[] | ((env: NodeJS.ProcessEnv) => readonly RoleDefinition[]),
  opts: {
    env?: NodeJS.ProcessEnv;
    onStarted?: (running: RunningRole[]) => void;
    onStopped?: () => Promise<void>;
  } = {},
): Promise<void> {
  const env = opts.env ?? process.env;
  const infra = infraOptions(env);
  const settings = readEnv(ProcessEnv, env);
  const stall = stallSettings(settings);
  const level = settings.TRIBUTARY_LOG_LEVEL;
  const instance = instanceId(env);
  const log = createLogger('tributary', level, { instance });
  const defs = typeof roles === 'function' ? roles(env) : roles;
  // Every role's settings, read and checked before anything connects: a bad one stops the process
  // here, naming the variable and the fix.
  const supervised = defs.map((def) => ({ def, options: def.options(env) }));

  const roleMetrics: RoleMetrics[] = [];
  let closing: Promise<void> | undefined;
  const supervisor = createRoleSupervisor({
    roles: supervised,
    context: (def, liveness) => ({
      infra,
      instance,
      logger: createLogger(def.name, level, { instance }),
      liveness,
    }),
    stall,
    metrics: roleMetrics,
    log,
    onStuckAlone: (role, reason) => {
      log.fatal(
        { role, reason },
        `${role} ${reason}; exiting with code ${EXIT_STALLED} so that its supervisor restarts it`,
      );
      void exitAfterClose();
    },
    onStuckClose: (role) => {
      log.fatal(
        { role },
        `${role} is stalled and did not close within 30 s; exiting with code ${EXIT_STALLED}`,
      );
      void exitAfterClose();
    },
  });
  // One ops server per process: /healthz, /readyz (every role started and progressing) and /metrics.
  const ops = await startOpsServer({
    host: settings.TRIBUTARY_OPS_HOST,
    port: settings.TRIBUTARY_OPS_PORT,
    token: settings.TRIBUTARY_OPS_TOKEN,
    metrics: roleMetrics, // kept in step with the running roles by the supervisor
    ready: async () => supervisor.readiness(),
  });

  const closeAll = () => {
    closing ??= (async () => {
      await supervisor.close();
      await ops.close();
      await opts.onStopped?.();
    })();
    return closing;
  };

  /** A stuck role: close what closes within the grace, then exit non-zero whatever happened. */
  async function exitAfterClose(): Promise<never> {
    process.exitCode = EXIT_STALLED;
    await Promise.race([closeAll(), delay(30_000)]).catch((err) =>
      log.error({ err: describeError(err) }, 'closing after a stall failed'),
    );
    process.exit(EXIT_STALLED);
  }

  const done = new Promise<void>((resolve) => {
    closeWithGrace({ delay: 90_000 }, async ({ signal, err }) => {
      if (err) log.error({ err: describeError(err) }, 'fatal error');
      log.info({ signal }, 'shutting down');
      await closeAll();
      resolve();
    });
  });

  try {
    await supervisor.start();
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.info(`health and metrics at ${ops.url}/healthz, /readyz, /metrics`);
  opts.onStarted?.(supervisor.running());
  await done;
}

/**
 * The body of a one-role process entry (`<role>/process.ts`): runs the roles until a signal, and
 * turns a start-up failure into one clear line and exit code 1.
 */
export async function runRolesMain(roles: Parameters<typeof runRolesProcess>[0]): Promise<void> {
  try {
    await runRolesProcess(roles);
  } catch (err) {
    console.error(`tributary: ${describeError(err)}`);
    process.exit(1);
  }
}
