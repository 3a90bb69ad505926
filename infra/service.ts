import fs from 'node:fs';
import path from 'node:path';
import { InfraError } from '../common/errors.ts';
import { waitFor } from '../common/wait-for.ts';
import { isAlive, lastLogLines, portInUse, readPid } from './daemon.ts';
import type { Log } from './toolchain.ts';

/** What the runner knows about one local server. Each lives in infra/services/<name>.ts. */
export interface LocalService {
  readonly name: ServiceName;
  /** the URL or host:port clients use */
  readonly endpoint: string;
  readonly port: number;
  readonly logFile: string;
  /** Downloads, builds or initialises what the server needs. Idempotent, cached. */
  prepare(log: Log): Promise<void>;
  /** Starts the server unless it is running; resolves when it is ready. */
  start(log: Log): Promise<void>;
  /** Asks the server itself, not just the pid. */
  health(): Promise<Health>;
  /** Stops exactly the process this runner started. */
  stop(log: Log): Promise<void>;
  pid(): number | undefined;
}

/** `kafka` is the single local broker; a local cluster's nodes are `kafka-1`, `kafka-2`, … */
export type ServiceName = 'postgres' | 'kafka' | `kafka-${number}` | 'registry' | 'mongodb';
export interface Health {
  healthy: boolean;
  detail: string;
}

export interface ServicePaths {
  dir: string;
  logFile: string;
  pidFile: string;
}

export function servicePaths(dataDir: string, name: ServiceName): ServicePaths {
  const dir = path.join(dataDir, name);
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  fs.mkdirSync(path.join(dataDir, 'run'), { recursive: true });
  return {
    dir,
    logFile: path.join(dataDir, 'logs', `${name}.log`),
    pidFile: path.join(dataDir, 'run', `${name}.pid`),
  };
}

/** Fails with a clear message when another program holds the port we are about to use. */
export async function assertPortFree(name: ServiceName, port: number, envVar: string): Promise<void> {
  if (await portInUse(port)) {
    throw new InfraError(`port ${port} (for ${name}) is already in use by another program`, {
      fix: `stop that program or set ${envVar} to a free port`,
    });
  }
}

/**
 * Waits until `ready()` answers true; fails early, with the end of the log, if the process dies.
 */
export async function waitUntilReady(
  name: string,
  pidFile: string,
  logFile: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let died = false;
  let timedOut = false;
  try {
    await waitFor(
      async () => {
        died = !isAlive(readPid(pidFile));
        return died || (await ready());
      },
      { timeoutMs, intervalMs: 500, what: `${name} to become ready` },
    );
  } catch {
    timedOut = true;
  }
  if (died || timedOut) {
    throw new InfraError(
      `${name} ${died ? 'died during start' : `was not ready after ${timeoutMs / 1000} s`}; last lines of ${logFile}:\n${lastLogLines(logFile)}`,
      { fix: `read ${logFile}; 'tributary infra reset' wipes the data if it is corrupt` },
    );
  }
}
