import closeWithGrace from 'close-with-grace';
import { type Command, Option } from 'commander';
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { infraOptions } from '../../infra/options.ts';
import { down, localServices, status, up } from '../../infra/runner.ts';
import { progress, readinessTable } from '../output.ts';
import { ROLES, type RunningRole } from '../roles.ts';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the local servers (unless external ones are configured) and the pipeline roles')
    .addOption(
      new Option('--role <role...>', 'run only these roles (default: all)').choices(ROLES.map((r) => r.name)),
    )
    .option('--no-infra', 'do not start local servers; expect them to be running')
    .action(async (o: { role?: string[]; infra: boolean }) => {
      const infra = infraOptions();
      const log = progress('start');
      let startedInfra = false;
      if (o.infra && localServices(infra).length > 0) {
        const before = await status(infra);
        startedInfra = before.some((s) => s.local && s.pid === undefined);
        await up(infra, progress('infra'));
      }
      console.log(readinessTable(await status(infra)));

      const running: Array<{ name: string; role: RunningRole }> = [];
      const wanted = o.role ? ROLES.filter((r) => o.role!.includes(r.name)) : ROLES;
      for (const def of wanted) {
        const role = await def.start({
          infra,
          env: process.env,
          logger: createLogger(def.name, process.env.TRIBUTARY_LOG_LEVEL),
        });
        running.push({ name: def.name, role });
        log(`${def.name} started${role.summary ? `: ${role.summary}` : ''}`);
      }
      log(
        wanted.length === 0
          ? 'infrastructure ready; no pipeline roles yet. Press Ctrl-C to stop.'
          : `running ${running.map((r) => r.name).join(', ')}. Press Ctrl-C to stop.`,
      );

      // close-with-grace: one shutdown on SIGINT/SIGTERM/uncaught error, with a deadline.
      await new Promise<void>((resolve) => {
        closeWithGrace({ delay: 90_000 }, async ({ signal, err }) => {
          if (err) console.error(`tributary: ${describeError(err)}`);
          log(`shutting down${signal ? ` (${signal})` : ''}`);
          for (const { name, role } of running.reverse()) {
            await role.close().catch((e) => console.error(`${name}: ${describeError(e)}`));
          }
          if (startedInfra) await down(infra, progress('infra'));
          resolve();
        });
      });
    });
}
