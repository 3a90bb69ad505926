import closeWithGrace from 'close-with-grace';
import type { RoleDefinition, RunningRole } from '../../cli/roles.ts';
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { infraOptions } from '../../infra/options.ts';

/**
 * Runs roles as a standalone process (one role per process is how the pipeline scales): reads the
 * environment once, starts the roles in order, and on SIGINT/SIGTERM or an uncaught error closes
 * them in reverse order through close-with-grace, which exits the process after `graceMs` if a
 * close hangs. A role that fails to start stops the process with exit code 1.
 */
export async function runRolesProcess(
  roles: readonly RoleDefinition[] | ((env: NodeJS.ProcessEnv) => readonly RoleDefinition[]),
  env: NodeJS.ProcessEnv = process.env,
  graceMs = 60_000,
): Promise<void> {
  const running: Array<{ name: string; role: RunningRole }> = [];
  const closeAll = async () => {
    for (const { name, role } of running.reverse()) {
      await role.close().catch((err) => console.error(`${name}: ${describeError(err)}`));
    }
  };
  // Installed before starting, so a signal during start-up still closes what was started.
  closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
    if (err) console.error(`tributary: ${describeError(err)}`);
    if (signal) console.error(`tributary: ${signal}: closing ${running.map((r) => r.name).join(', ')}`);
    await closeAll();
  });
  try {
    const infra = infraOptions(env);
    for (const def of typeof roles === 'function' ? roles(env) : roles) {
      const logger = createLogger(def.name, env.TRIBUTARY_LOG_LEVEL);
      const role = await def.start({ infra, env, logger });
      running.push({ name: def.name, role });
      logger.info({ summary: role.summary }, `${def.name} started`);
    }
  } catch (err) {
    console.error(`tributary: ${describeError(err)}`);
    await closeAll();
    process.exit(1);
  }
}
