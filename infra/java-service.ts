import fs from 'node:fs';
import { isAlive, readPid, startDaemon, stopPid } from './daemon.ts';
import {
  assertPortFree,
  type Health,
  type LocalService,
  type ServiceName,
  servicePaths,
  waitUntilReady,
} from './service.ts';
import { type Log, requireJava } from './toolchain.ts';

/**
 * Kafka, the registry and the MongoDB-wire server are all JVM processes started in the background:
 * this is their shared lifecycle, each service file supplies what differs.
 */
export interface JavaServiceSpec {
  name: ServiceName;
  endpoint: string;
  port: number;
  /** extra ports that must be free, with the setting that moves them */
  ports: Array<{ port: number; envVar: string }>;
  dataDir: string;
  /** downloads/initialises; returns the java arguments (after `java`) */
  prepare(log: Log, java: string): Promise<string[]>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  health(): Promise<Health>;
  readyTimeoutMs: number;
  stopGraceMs: number;
  /** runs once the server answers, e.g. to set registry defaults */
  afterReady?(log: Log): Promise<void>;
}

export function createJavaService(spec: JavaServiceSpec): LocalService {
  const paths = servicePaths(spec.dataDir, spec.name);
  let java: string | undefined;
  let args: string[] | undefined;

  const service: LocalService = {
    name: spec.name,
    endpoint: spec.endpoint,
    port: spec.port,
    logFile: paths.logFile,
    pid: () => {
      const pid = readPid(paths.pidFile);
      return isAlive(pid) ? pid : undefined;
    },
    async prepare(log) {
      java = await requireJava(log);
      fs.mkdirSync(paths.dir, { recursive: true });
      args = await spec.prepare(log, java);
    },
    async start(log) {
      if (service.pid() !== undefined && (await spec.health()).healthy) return;
      if (service.pid() === undefined) {
        for (const p of spec.ports) await assertPortFree(spec.name, p.port, p.envVar);
        log(`${spec.name}: starting on 127.0.0.1:${spec.port}`);
        startDaemon({
          name: spec.name,
          command: java!,
          args: args!,
          env: spec.env,
          cwd: spec.cwd ?? paths.dir,
          logFile: paths.logFile,
          pidFile: paths.pidFile,
        });
      }
      await waitUntilReady(
        spec.name,
        paths.pidFile,
        paths.logFile,
        async () => (await spec.health()).healthy,
        spec.readyTimeoutMs,
      );
      await spec.afterReady?.(log);
    },
    health: () => spec.health(),
    async stop(log) {
      const pid = service.pid();
      if (pid === undefined) return;
      log(`${spec.name}: stopping`);
      await stopPid(pid, spec.stopGraceMs);
      fs.rmSync(paths.pidFile, { force: true });
    },
  };
  return service;
}
