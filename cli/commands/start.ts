import { type Command, Option } from 'commander';
import { down, localServices, status, up } from '../../infra/runner.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import { runRolesProcess } from '../../runtime/run-roles.ts';
import { progress, readinessTable } from '../output.ts';
import { ROLES } from '../role-list.ts';

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
      const wanted = o.role ? ROLES.filter((r) => o.role!.includes(r.name)) : ROLES;
      await runRolesProcess(wanted, {
        onStarted: (running) => {
          for (const r of running) if (r.summary) log(r.summary);
          log(
            wanted.length === 0
              ? 'infrastructure ready; no pipeline roles yet. Press Ctrl-C to stop.'
              : `running ${wanted.map((r) => r.name).join(', ')}. Press Ctrl-C to stop.`,
          );
        },
        // Servers that were already running before `start` are left running.
        onStopped: async () => {
          if (startedInfra) await down(infra, progress('infra'));
        },
      });
    });
}
