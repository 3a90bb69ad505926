import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InfraError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { createTokenBucket } from '../common/token-bucket.ts';
import { buildMockSourceApp, type MockSourceApp } from './app.ts';
import { createFaultInjector, type FaultInjector } from './faults.ts';
import { createGenerator } from './generator.ts';
import { checkMockSourceOptions, type MockSourceOptions } from './options.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import { createVersionStore, type VersionStore } from './store.ts';

export type { FaultSettings } from './faults.ts';
export { type MockSourceOptions, mockSourceOptions } from './options.ts';

export interface MockSourceHandle {
  /** e.g. http://127.0.0.1:4010 (the real port when 0 was asked) */
  url: string;
  adminToken: string;
  pause(): void;
  resume(): void;
  /** advances the simulator by one tick now (a no-op when the clock has not moved since the last) */
  tick(): void;
  close(): Promise<void>;
}

export interface MockSourceDeps {
  logger?: Logger;
  /** epoch ms; the only clock of the simulator and the token bucket */
  now?: () => number;
  /** the source of request faults (default Math.random) */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** where a generated admin token is shown, once (default: the terminal, stderr) */
  print?: (line: string) => void;
}

/** Everything of a mock source, wired but not listening and not ticking: what unit tests drive. */
export interface MockSource {
  app: MockSourceApp;
  simulator: Simulator;
  faults: FaultInjector;
  workspaces: VersionStore;
  jobs: VersionStore;
  metrics: RoleMetrics;
  adminToken: string;
}

export function createMockSource(opts: MockSourceOptions, deps: MockSourceDeps = {}): MockSource {
  const now = deps.now ?? Date.now;
  const adminToken = opts.adminToken ?? randomBytes(24).toString('base64url');
  const metrics = createRoleMetrics('mock-source');
  const versionsWritten = metrics.counter('mock_source_versions_total', 'Versions written', [
    'entity',
    'malformed',
  ]);
  const records = metrics.gauge('mock_source_records', 'Records in the source', ['entity']);
  const workspaces = createVersionStore();
  const jobs = createVersionStore();
  const faults = createFaultInjector({ initial: opts.faults, random: deps.random });
  const simulator = createSimulator({
    gen: createGenerator({ seed: opts.seed }),
    workspaces,
    jobs,
    now,
    options: opts,
    malformedRate: () => faults.settings().rateMalformedRecord,
    startPaused: opts.startPaused,
    onVersion(entity, malformed) {
      versionsWritten.inc({ entity, malformed: String(malformed) });
      records.set({ entity }, (entity === 'workspace' ? workspaces : jobs).records);
    },
    onError: (err) => deps.logger?.error({ err }, 'simulator tick failed'),
  });
  const app = buildMockSourceApp({
    adminToken,
    apiToken: opts.apiToken,
    workspaces,
    jobs,
    simulator,
    faults,
    bucket: createTokenBucket({ ...opts.rateLimit, now }),
    metrics,
    logger: deps.logger,
    sleep: deps.sleep,
  });
  return { app, simulator, faults, workspaces, jobs, metrics, adminToken };
}

/** Starts the mock source: listens, then ticks every `opts.tickMs` unless started paused. */
export async function startMockSource(
  opts: MockSourceOptions,
  deps: MockSourceDeps = {},
): Promise<MockSourceHandle> {
  checkMockSourceOptions(opts);
  const logger = deps.logger ?? createLogger('mock-source');
  const source = createMockSource(opts, { ...deps, logger });
  const { app, simulator } = source;
  if (opts.adminToken === undefined) {
    // The operator needs it to reach /admin. It goes to the terminal once, never into the structured
    // log, whose lines end up in log collectors that keep them and show them to more people.
    logger.warn(
      'TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN is not set: generated an admin token for this run (printed on the terminal)',
    );
    const print = deps.print ?? ((line: string) => process.stderr.write(`${line}\n`));
    print(`mock source admin token for this run: ${source.adminToken}`);
  }
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app.close();
    throw new InfraError(`mock source could not listen on ${opts.host}:${opts.port}`, {
      cause: err,
      fix: 'set TRIBUTARY_MOCK_SOURCE_PORT to a free port (0 picks one) or stop what uses it',
    });
  }
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${urlHost(opts.host)}:${port}`;
  simulator.start(opts.tickMs);
  logger.info(
    { url, docs: `${url}/docs`, seed: opts.seed, paused: simulator.paused },
    'mock source listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    adminToken: source.adminToken,
    pause: () => simulator.pause(),
    resume: () => simulator.resume(),
    tick: () => {
      simulator.tick();
    },
    close() {
      closing ??= (async () => {
        simulator.stop();
        await app.close();
      })();
      return closing;
    },
  };
}

/** A host clients can connect to: the wildcard addresses are reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
