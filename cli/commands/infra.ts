import fs from 'node:fs';
import confirm from '@inquirer/confirm';
import type { Command } from 'commander';
import { InfraError } from '../../common/errors.ts';
import { lastLogLines } from '../../infra/daemon.ts';
import { down, downOne, isKafkaNode, localServices, reset, status, up, upOne } from '../../infra/runner.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import { progress, readinessTable } from '../output.ts';

export function registerInfraCommands(program: Command): void {
  const infra = program
    .command('infra')
    .description('run the local Kafka, schema registry, Postgres and MongoDB servers');

  infra
    .command('up')
    .description(
      'start every local server that is not running (idempotent), or only the one named (e.g. kafka-2), and print a readiness table',
    )
    .argument(
      '[server]',
      'one server: kafka (kafka-1, kafka-2, … in a cluster), registry, postgres or mongodb',
    )
    .option(
      '--brokers <n>',
      'run a local Kafka of n nodes (as TRIBUTARY_KAFKA_NODES=n, which the other commands read)',
    )
    .action(async (server: string | undefined, o: { brokers?: string }) => {
      const env =
        o.brokers === undefined ? process.env : { ...process.env, TRIBUTARY_KAFKA_NODES: o.brokers };
      const opts = infraOptions(env);
      const rows = server
        ? [await upOne(opts, server, progress('infra'))]
        : await up(opts, progress('infra'));
      console.log(readinessTable(rows));
      if (o.brokers !== undefined && process.env.TRIBUTARY_KAFKA_NODES !== o.brokers)
        console.error(
          `[infra] note: set TRIBUTARY_KAFKA_NODES=${o.brokers} (in .env or the environment) so that status, down, start and the roles use all ${o.brokers} nodes`,
        );
      if (rows.some((r) => !r.healthy)) throw new InfraError('some servers are not healthy');
    });

  infra
    .command('down')
    .description('stop the local servers this runner started, or only the one named (e.g. kafka-2)')
    .argument(
      '[server]',
      'one server: kafka (kafka-1, kafka-2, … in a cluster), registry, postgres or mongodb',
    )
    .action(async (server: string | undefined) => {
      if (server) await downOne(infraOptions(), server, progress('infra'));
      else await down(infraOptions(), progress('infra'));
    });

  infra
    .command('status')
    .description('health of every endpoint, local or external')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await status(infraOptions());
      console.log(o.json ? JSON.stringify(rows, null, 2) : readinessTable(rows));
      if (rows.some((r) => !r.healthy)) process.exitCode = 1;
    });

  infra
    .command('reset')
    .description('stop the local servers and wipe their data')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o: { yes?: boolean }) => {
      const opts = infraOptions();
      if (!o.yes) {
        if (!process.stdin.isTTY) throw new InfraError('reset needs confirmation', { fix: 'pass --yes' });
        if (!(await confirm({ message: `Wipe all data in ${opts.dataDir}?`, default: false }))) return;
      }
      await reset(opts, progress('infra'));
    });

  infra
    .command('logs')
    .description('print the end of each local server log')
    .argument(
      '[server]',
      'kafka (every node of a cluster), kafka-2 (one node), registry, postgres or mongodb',
    )
    .option('-n, --lines <n>', 'lines per server', '40')
    .action((server: string | undefined, o: { lines: string }) => {
      for (const s of localServices(infraOptions())) {
        if (server && s.name !== server && !(server === 'kafka' && isKafkaNode(s.name))) continue;
        console.log(`==> ${s.logFile} <==`);
        console.log(fs.existsSync(s.logFile) ? lastLogLines(s.logFile, Number(o.lines)) : '(no log yet)');
      }
    });
}
