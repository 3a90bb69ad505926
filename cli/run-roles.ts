import closeWithGrace from 'close-with-grace';
import { readEnv } from '../common/env.ts';
import { describeError } from '../common/errors.ts';
import { createLogger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import { startOpsServer } from '../common/ops-server.ts';
import { infraOptions } from '../infra/options.ts';
import { ProcessEnv } from './process-env.ts';
import type { RoleDefinition, RunningRole } from './roles.ts';

/**
 * Runs roles in this process until SIGINT/SIGTERM: starts them in order, then on a signal closes
 * each once, in reverse order (each finishes its batch in flight and commits), within a deadline.
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
  const level = settings.TRIBUTARY_LOG_LEVEL;
  const running: Array<{ name: string; role: RunningRole }> = [];
  const log = createLogger('tributary', level);

  let ready = false;
  const roleMetrics: RoleMetrics[] = [];
  // One ops server per process: /healthz, /readyz (every role started) and /metrics of all roles.
  const ops = await startOpsServer({
    host: settings.TRIBUTARY_OPS_HOST,
    port: settings.TRIBUTARY_OPS_PORT,
    token: settings.TRIBUTARY_OPS_TOKEN,
    metrics: roleMetrics, // filled as the roles start
    ready: async () => ready,
  });

  let closing: Promise<void> | undefined;
  const closeAll = () => {
    closing ??= (async () => {
      ready = false;
      for (const { name, role } of [...running].reverse()) {
        await role
          .close()
          .catch((err) => log.error({ err: describeError(err) }, `${name} did not close cleanly`));
      }
      await ops.close();
      await opts.onStopped?.();
    })();
    return closing;
  };

  const done = new Promise<void>((resolve) => {
    closeWithGrace({ delay: 90_000 }, async ({ signal, err }) => {
      if (err) log.error({ err: describeError(err) }, 'fatal error');
      log.info({ signal }, 'shutting down');
      await closeAll();
      resolve();
    });
  });

  try {
    for (const def of typeof roles === 'function' ? roles(env) : roles) {
      const role = await def.start({ infra, env, logger: createLogger(def.name, level) });
      running.push({ name: def.name, role });
      roleMetrics.push(...(role.metrics ?? []));
      log.info(`${def.name} started${role.summary ? `: ${role.summary}` : ''}`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  ready = true;
  log.info(`health and metrics at ${ops.url}/healthz, /readyz, /metrics`);
  opts.onStarted?.(running.map((r) => r.role));
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
