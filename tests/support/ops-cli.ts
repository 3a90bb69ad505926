import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';

/**
 * Runs `tributary <args>` (bin/tributary.mjs) as a child process with the test instance's
 * environment plus `env`, the way an operator runs it. Output is collected; `waitForOutput` lets a
 * test act when the command reaches a step (e.g. "waiting for the group to run again").
 */
export interface CliRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code */
  readonly exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/tributary.mjs', import.meta.url));

export function startCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...inject('infraEnv'), TRIBUTARY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(pattern, timeoutMs = 90_000) {
      await waitFor(() => pattern.test(out) || pattern.test(err) || child.exitCode !== null, {
        timeoutMs,
        what: `tributary ${args.join(' ')} to print ${pattern}`,
      });
      if (!pattern.test(out) && !pattern.test(err)) {
        throw new Error(
          `tributary ${args[0]} exited (${child.exitCode}) before printing ${pattern}:\n${out}\n${err}`,
        );
      }
    },
  };
}

/** Runs the command to its end and returns its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
