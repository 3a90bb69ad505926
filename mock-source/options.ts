import { isIP } from 'node:net';
import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { ConfigError } from '../common/errors.ts';
import type { FaultSettings } from './faults.ts';

const Probability = (what: string) =>
  Type.Number({ minimum: 0, maximum: 1, default: 0, description: `a probability from 0 to 1 of ${what}` });

const Count = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

/** Settings of the mock source, read from the environment (see README.md in this folder). */
export const MockSourceEnv = Type.Object({
  TRIBUTARY_MOCK_SOURCE_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'the address to listen on, e.g. 127.0.0.1 (any non-loopback address needs an API token)',
  }),
  TRIBUTARY_MOCK_SOURCE_PORT: Count(4010, 0, 65535, 'a free TCP port (0 picks a free one)'),
  TRIBUTARY_MOCK_SOURCE_SEED: Type.Integer({ default: 42, description: 'an integer seed for the fake data' }),
  TRIBUTARY_MOCK_SOURCE_TICK_MS: Count(1000, 10, 3_600_000, 'the simulator period in ms (10-3600000)'),
  TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: Count(5, 0, 1000, 'how many changes a tick attempts (0-1000)'),
  TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: Count(20, 0, 100_000, 'the workspaces created at start'),
  TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: Count(200, 1, 100_000, 'the most workspaces the simulator creates'),
  TRIBUTARY_MOCK_SOURCE_MAX_JOBS: Count(5000, 0, 1_000_000, 'the most enrichment jobs the simulator creates'),
  TRIBUTARY_MOCK_SOURCE_SCHEMA: Type.String({
    default: 'mock_source',
    pattern: '^[a-z_][a-z0-9_]{0,62}$',
    description:
      'the Postgres schema of the world, e.g. mock_source (a lower-case SQL name; another one is created as a copy)',
  }),
  TRIBUTARY_MOCK_SOURCE_PAUSED: Type.Boolean({
    default: false,
    description: 'true to start with the simulator paused (POST /admin/simulator/resume starts it)',
  }),
  TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: Count(50, 1, 1_000_000, 'the burst size of each client (>= 1)'),
  TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: Type.Number({
    exclusiveMinimum: 0,
    default: 20,
    description: 'the requests per second each client regains (> 0)',
  }),
  TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE: Probability('an injected 429 per request'),
  TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE: Probability('an injected 5xx per request'),
  TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_RATE: Probability('a slow response per request'),
  TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_MS: Count(2000, 0, 600_000, 'the delay of slow responses in ms'),
  TRIBUTARY_MOCK_SOURCE_FAULT_TRUNCATED_RATE: Probability('a cut-off or non-JSON 200 body per request'),
  TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: Probability('a malformed version per written version'),
  TRIBUTARY_MOCK_SOURCE_FAULT_RETRY_AFTER_SECONDS: Count(1, 1, 3600, 'the Retry-After of injected 429s'),
  TRIBUTARY_MOCK_SOURCE_API_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'a random secret of at least 16 characters for /v1' }),
  ),
  TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'a random secret of at least 16 characters for /admin' }),
  ),
});
export type MockSourceEnv = Static<typeof MockSourceEnv>;

export interface MockSourceOptions {
  host: string;
  /** 0 picks a free port (the handle's url says which) */
  port: number;
  seed: number;
  tickMs: number;
  changesPerTick: number;
  initialWorkspaces: number;
  maxWorkspaces: number;
  maxJobs: number;
  /** the Postgres schema that holds the world (the role's store) */
  schema: string;
  startPaused: boolean;
  rateLimit: { capacity: number; refillPerSecond: number };
  faults: FaultSettings;
  /** required for /v1 when set, and always when `host` is not a loopback address */
  apiToken?: string;
  /** a random one is generated at start when unset */
  adminToken?: string;
}

export function mockSourceOptions(env: NodeJS.ProcessEnv): MockSourceOptions {
  const e = readEnv(MockSourceEnv, env);
  const opts: MockSourceOptions = {
    host: e.TRIBUTARY_MOCK_SOURCE_HOST,
    port: e.TRIBUTARY_MOCK_SOURCE_PORT,
    seed: e.TRIBUTARY_MOCK_SOURCE_SEED,
    tickMs: e.TRIBUTARY_MOCK_SOURCE_TICK_MS,
    changesPerTick: e.TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK,
    initialWorkspaces: e.TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES,
    maxWorkspaces: e.TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES,
    maxJobs: e.TRIBUTARY_MOCK_SOURCE_MAX_JOBS,
    schema: e.TRIBUTARY_MOCK_SOURCE_SCHEMA,
    startPaused: e.TRIBUTARY_MOCK_SOURCE_PAUSED,
    rateLimit: {
      capacity: e.TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY,
      refillPerSecond: e.TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND,
    },
    faults: {
      rate429: e.TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE,
      rate5xx: e.TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE,
      rateSlow: e.TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_RATE,
      slowMs: e.TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_MS,
      rateTruncated: e.TRIBUTARY_MOCK_SOURCE_FAULT_TRUNCATED_RATE,
      rateMalformedRecord: e.TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE,
      retryAfterSeconds: e.TRIBUTARY_MOCK_SOURCE_FAULT_RETRY_AFTER_SECONDS,
    },
    apiToken: e.TRIBUTARY_MOCK_SOURCE_API_TOKEN,
    adminToken: e.TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN,
  };
  checkMockSourceOptions(opts);
  return opts;
}

/** The Postgres schema of the mock source's world alone: what `tributary reset --topics` empties. */
export function mockSourceSchema(env: NodeJS.ProcessEnv): string {
  const only = Type.Pick(MockSourceEnv, ['TRIBUTARY_MOCK_SOURCE_SCHEMA']);
  return readEnv(only, env).TRIBUTARY_MOCK_SOURCE_SCHEMA;
}

/**
 * Rules that span fields. Also called by startMockSource, since options can be built by hand.
 * Reachable from elsewhere means anyone can read the API: then a token is mandatory.
 */
export function checkMockSourceOptions(opts: MockSourceOptions): void {
  if (!isLoopback(opts.host) && !opts.apiToken) {
    throw new ConfigError(
      'TRIBUTARY_MOCK_SOURCE_API_TOKEN',
      `is not set: it is required because TRIBUTARY_MOCK_SOURCE_HOST (${opts.host}) is not a loopback address`,
      'set TRIBUTARY_MOCK_SOURCE_API_TOKEN to a random secret of at least 16 characters, or bind 127.0.0.1',
    );
  }
  if (opts.initialWorkspaces > opts.maxWorkspaces) {
    throw new ConfigError(
      'TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES',
      `is ${opts.initialWorkspaces}: more than TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES (${opts.maxWorkspaces})`,
      'set TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES to at most TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES',
    );
  }
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
