import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A role running as a child process (`node --import tsx <entry>`), so tests can `kill -9` it.
 * Output is kept in memory and shown when the test fails to explain why.
 */
export interface RoleProcess {
  readonly child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  /** SIGTERM and wait for a clean exit; returns the exit code */
  stop(): Promise<number | null>;
}

export function spawnRole(entry: string, env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...env, TRIBUTARY_LOG_LEVEL: env.TRIBUTARY_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = once(child, 'exit');
  return {
    child,
    output: () => out,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}
