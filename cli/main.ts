import { Command, CommanderError } from 'commander';
import { describeError } from '../common/errors.ts';
import { registerAlertsCommand } from './commands/alerts.ts';
import { registerDlqCommand } from './commands/dlq.ts';
import { registerInfraCommands } from './commands/infra.ts';
import { registerRebuildGoldCommand } from './commands/rebuild-gold.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerResetCommand } from './commands/reset.ts';
import { registerSchemaCommand } from './commands/schema.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTailCommand } from './commands/tail.ts';
import { registerTraceCommand } from './commands/trace.ts';

/**
 * The `tributary` CLI. Each command file registers itself here; settings are read from the
 * environment inside each action (never at import time), so `--help` works with a broken .env.
 * Argument errors exit with 2, failures with 1.
 */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description(
      'Event-streaming pipeline: two REST APIs into Kafka, bronze and gold in Postgres and MongoDB',
    )
    .showHelpAfterError()
    .exitOverride();
  registerInfraCommands(program);
  registerStartCommand(program);
  registerStatusCommand(program);
  registerAlertsCommand(program);
  registerTailCommand(program);
  registerTraceCommand(program);
  registerSchemaCommand(program);
  registerReplayCommand(program);
  registerRebuildGoldCommand(program);
  registerDlqCommand(program);
  registerResetCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // a command that ran but found a problem (e.g. status: a server down, a role stalled) says so
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" with exit code 0
      return err.exitCode === 0 ? 0 : 2;
    }
    console.error(`tributary: ${describeError(err)}`);
    return 1;
  }
}
