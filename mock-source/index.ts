import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InfraError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { createTokenBucket } from '../common/token-bucket.ts';
import { MOCK_SOURCE_METRICS } from '../contracts/metrics/index.ts';
import { buildMockSourceApp, type MockSourceApp } from './app.ts';
import { createFaultInjector, type FaultInjector } from './faults.ts';
import { checkMockSourceOptions, type MockSourceOptions } from './options.ts';
import { openPostgresWorld } from './pg-world.ts';
import { createSimulator, type Simulator, type TickResult } from './simulator.ts';
import { createTicker, type Ticker } from './ticker.ts';
import type { SavedWorld, WorldCounts, WorldStore } from './world.ts';

export type { FaultSettings } from './faults.ts';
export { createMemoryWorld } from './memory-world.ts';
export { type MockSourceOptions, mockSourceOptions } from './options.ts';
export type { TickResult } from './simulator.ts';

export interface MockSourceHandle {
  /** e.g. http://127.0.0.1:4010 (the real port when 0 was asked) */
  url: string;
  adminToken: string;
  /** stops ticking; resolves once a tick in flight is stored, so the world no longer changes */
  pause(): Promise<void>;
  resume(): void;
  /** advances the simulator by one tick now and keeps it (nothing when the clock has not moved) */
  tick(): Promise<TickResult>;
  /** stops ticking, finishes the write in flight, stops listening and closes the world's store */
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
  /** where the world lives; without it, startMockSource opens it in Postgres at `postgresUrl` */
  world?: WorldStore;
  postgresUrl?: string;
}

/** Everything of a mock source, wired but not listening and not ticking: what unit tests drive. */
export interface MockSource {
  app: MockSourceApp;
  simulator: Simulator;
  ticker: Ticker;
  faults: FaultInjector;
  world: WorldStore;
  metrics: RoleMetrics;
  adminToken: string;
  /** resolves once a new world's initial population is kept (at once for a loaded world) */
  ready: Promise<void>;
}

export function createMockSource(
  opts: MockSourceOptions,
  deps: MockSourceDeps & { world: WorldStore; saved?: SavedWorld },
): MockSource {
  const now = deps.now ?? Date.now;
  const { world } = deps;
  const adminToken = opts.adminToken ?? randomBytes(24).toString('base64url');
  const metrics = createRoleMetrics('mock-source');
  const versionsWritten = metrics.counter(MOCK_SOURCE_METRICS.versionsWritten);
  const records = metrics.gauge(MOCK_SOURCE_METRICS.records);
  const late = metrics.counter(MOCK_SOURCE_METRICS.ticksLate);
  const dropped = metrics.counter(MOCK_SOURCE_METRICS.ticksDropped);
  const writeFailures = metrics.counter(MOCK_SOURCE_METRICS.tickWriteFailures);
  const faults = createFaultInjector({ initial: opts.faults, random: deps.random });
  const simulator = createSimulator({
    options: opts,
    now,
    saved: deps.saved,
    malformedRate: () => faults.settings().rateMalformedRecord,
    onVersion: (entity, malformed) => versionsWritten.inc({ entity, malformed: String(malformed) }),
  });
  const showCounts = ({ workspaces, jobs }: WorldCounts) => {
    records.set({ entity: 'workspace' }, workspaces);
    records.set({ entity: 'enrichment-job' }, jobs);
  };
  const ticker = createTicker({
    simulator,
    world,
    startPaused: opts.startPaused,
    logger: deps.logger,
    onKept: (batch) => showCounts(batch.state.counts),
    onLate: () => late.inc(),
    onDropped: (periods) => dropped.inc(periods),
    onFailure: () => writeFailures.inc(),
  });
  const initial = simulator.takeInitialBatch();
  let ready: Promise<void>;
  try {
    ready = Promise.resolve(initial && world.commit(initial)).then(() => showCounts(simulator.stats()));
  } catch (err) {
    ready = Promise.reject(err);
  }
  const app = buildMockSourceApp({
    adminToken,
    apiToken: opts.apiToken,
    workspaces: world.workspaces,
    jobs: world.jobs,
    stats: () => world.counts(),
    ticker,
    faults,
    bucket: createTokenBucket({ ...opts.rateLimit, now }),
    metrics,
    logger: deps.logger,
    sleep: deps.sleep,
  });
  return { app, simulator, ticker, faults, world, metrics, adminToken, ready };
}

/**
 * Starts the mock source: opens its world (the stored one continues; an empty store begins a new
 * one from the seed), listens, then ticks every `opts.tickMs` unless started paused.
 */
export async function startMockSource(
  opts: MockSourceOptions,
  deps: MockSourceDeps = {},
): Promise<MockSourceHandle> {
  checkMockSourceOptions(opts);
  const logger = deps.logger ?? createLogger('mock-source');
  if (!deps.world && !deps.postgresUrl) {
    throw new Error('startMockSource needs the world store (deps.world) or a Postgres URL for it');
  }
  const world =
    deps.world ?? (await openPostgresWorld({ url: deps.postgresUrl!, schema: opts.schema, logger }));
  let source: MockSource | undefined;
  try {
    const saved = await world.load();
    if (saved && saved.state.seed !== opts.seed) {
      logger.warn(
        { storedSeed: saved.state.seed, seed: opts.seed },
        'continuing the stored world, created with another seed: TRIBUTARY_MOCK_SOURCE_SEED only applies to a new world (npx tributary reset --topics begins one)',
      );
    }
    source = createMockSource(opts, { ...deps, logger, world, saved });
    await source.ready;
    await source.app.listen({ host: opts.host, port: opts.port }).catch((err) => {
      throw new InfraError(`mock source could not listen on ${opts.host}:${opts.port}`, {
        cause: err,
        fix: 'set TRIBUTARY_MOCK_SOURCE_PORT to a free port (0 picks one) or stop what uses it',
      });
    });
  } catch (err) {
    await source?.app.close();
    await world.close();
    throw err;
  }
  const { app, ticker } = source;
  if (opts.adminToken === undefined) {
    // The operator needs it to reach /admin. It goes to the terminal once, never into the structured
    // log, whose lines end up in log collectors that keep them and show them to more people.
    logger.warn(
      'TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN is not set: generated an admin token for this run (printed on the terminal)',
    );
    const print = deps.print ?? ((line: string) => process.stderr.write(`${line}\n`));
    print(`mock source admin token for this run: ${source.adminToken}`);
  }
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${urlHost(opts.host)}:${port}`;
  ticker.start(opts.tickMs);
  logger.info(
    { url, docs: `${url}/docs`, seed: opts.seed, paused: ticker.paused, ...source.simulator.stats() },
    'mock source listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    adminToken: source.adminToken,
    pause: () => ticker.pause(),
    resume: () => ticker.resume(),
    tick: () => ticker.tick(),
    close() {
      closing ??= (async () => {
        await ticker.stop();
        await app.close();
        await world.close();
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
