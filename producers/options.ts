import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { ConfigError } from '../common/errors.ts';
import type { RetryPolicy } from '../common/retry.ts';
import { readTopology } from '../contracts/topology.ts';
import { API_NAMES, type ApiName, isApiName } from './apis.ts';

const Ms = (def: number, minimum: number, description: string) =>
  Type.Integer({ default: def, minimum, description });

export const PollersEnv = Type.Object({
  TRIBUTARY_SOURCE_URL: Type.String({
    default: 'http://127.0.0.1:4010',
    minLength: 1,
    description: 'the base URL of the source API, e.g. http://127.0.0.1:4010',
  }),
  TRIBUTARY_SOURCE_TOKEN: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'the Bearer token of the source API (omit when it needs none)',
    }),
  ),
  TRIBUTARY_POLLERS: Type.String({
    default: API_NAMES.join(','),
    minLength: 1,
    description: `a comma-separated list of the APIs this process may poll (${API_NAMES.join(', ')}); the pollers group gives each API to one process`,
  }),
  TRIBUTARY_POLL_INTERVAL_MS: Ms(1000, 10, 'the pause between two walks of a feed in ms (>= 10)'),
  TRIBUTARY_POLL_PAGE_SIZE: Type.Integer({
    default: 100,
    minimum: 1,
    maximum: 500,
    description: 'the number of records per page (1-500)',
  }),
  TRIBUTARY_POLL_OVERLAP_MS: Ms(2000, 0, 'how far before the high-water mark each walk starts, in ms (>= 0)'),
  TRIBUTARY_POLL_REQUEST_TIMEOUT_MS: Ms(10_000, 100, 'the timeout of one source request in ms (>= 100)'),
  TRIBUTARY_POLL_RETRIES: Type.Integer({
    default: 8,
    minimum: 0,
    maximum: 100,
    description: 'how often a failed page request is retried (0-100; 429 waits do not count)',
  }),
  TRIBUTARY_POLL_RETRY_MIN_MS: Ms(200, 1, 'the first retry backoff in ms (>= 1)'),
  TRIBUTARY_POLL_RETRY_MAX_MS: Ms(10_000, 1, 'the longest retry backoff in ms (>= 1)'),
  TRIBUTARY_POLL_RETRY_AFTER_MAX_MS: Ms(60_000, 0, 'the longest Retry-After the poller waits for, in ms'),
  TRIBUTARY_POLL_PAGE_DEADLINE_MS: Ms(120_000, 1000, 'how long one page may take with retries, in ms'),
  TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX: Type.String({
    default: 'tributary.poller',
    minLength: 1,
    description:
      'the prefix of the pollers’ Kafka transactional ids (one id per API: <prefix>.<api>) and of their consumer group (<prefix>.owners)',
  }),
  TRIBUTARY_POLL_TRANSACTION_TIMEOUT_MS: Ms(
    30_000,
    1000,
    'the Kafka transaction timeout in ms: how long a dead poller’s open transaction can block readers',
  ),
  TRIBUTARY_POLL_SESSION_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 6000,
    maximum: 300_000,
    description:
      'how long (ms, 6000-300000) the pollers group waits for a silent pollers process before giving its APIs to another; lower takes over faster after a crash',
  }),
});
export type PollersEnv = Static<typeof PollersEnv>;

export interface ApiTopics {
  raw: string;
  /** the dead-letter topic of the API's entries that fail validation (JSON, dlq.source.*) */
  dlq: string;
}

export interface PollersOptions {
  sourceUrl: string;
  sourceToken?: string;
  pollers: ApiName[];
  intervalMs: number;
  pageSize: number;
  overlapMs: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  /** the pollers' consumer group: it decides which process polls which API (ownership.ts) */
  groupId: string;
  sessionTimeoutMs: number;
  topics: Record<ApiName, ApiTopics> & { state: string; metrics: string; walks: string };
}

export function pollersOptions(env: NodeJS.ProcessEnv = process.env): PollersOptions {
  const e = readEnv(PollersEnv, env);
  const t = readTopology(env);
  try {
    new URL(e.TRIBUTARY_SOURCE_URL);
  } catch {
    throw new ConfigError(
      'TRIBUTARY_SOURCE_URL',
      `is ${JSON.stringify(e.TRIBUTARY_SOURCE_URL)}: not a URL`,
      'set TRIBUTARY_SOURCE_URL to the base URL of the source API, e.g. http://127.0.0.1:4010',
    );
  }
  const pollers = e.TRIBUTARY_POLLERS.split(',').map((p) => p.trim());
  const unknown = pollers.filter((p) => !isApiName(p));
  if (unknown.length > 0 || pollers.length === 0) {
    throw new ConfigError(
      'TRIBUTARY_POLLERS',
      `is ${JSON.stringify(e.TRIBUTARY_POLLERS)}: unknown poller ${unknown.join(', ')}`,
      `set TRIBUTARY_POLLERS to a comma-separated list of ${API_NAMES.join(', ')}`,
    );
  }
  if (e.TRIBUTARY_POLL_RETRY_MAX_MS < e.TRIBUTARY_POLL_RETRY_MIN_MS) {
    throw new ConfigError(
      'TRIBUTARY_POLL_RETRY_MAX_MS',
      `is ${e.TRIBUTARY_POLL_RETRY_MAX_MS}: smaller than TRIBUTARY_POLL_RETRY_MIN_MS`,
      'set TRIBUTARY_POLL_RETRY_MAX_MS to at least TRIBUTARY_POLL_RETRY_MIN_MS',
    );
  }
  return {
    sourceUrl: e.TRIBUTARY_SOURCE_URL.replace(/\/+$/, ''),
    sourceToken: e.TRIBUTARY_SOURCE_TOKEN,
    pollers: [...new Set(pollers as ApiName[])],
    intervalMs: e.TRIBUTARY_POLL_INTERVAL_MS,
    pageSize: e.TRIBUTARY_POLL_PAGE_SIZE,
    overlapMs: e.TRIBUTARY_POLL_OVERLAP_MS,
    requestTimeoutMs: e.TRIBUTARY_POLL_REQUEST_TIMEOUT_MS,
    retry: {
      retries: e.TRIBUTARY_POLL_RETRIES,
      minDelayMs: e.TRIBUTARY_POLL_RETRY_MIN_MS,
      maxDelayMs: e.TRIBUTARY_POLL_RETRY_MAX_MS,
      maxRetryAfterMs: e.TRIBUTARY_POLL_RETRY_AFTER_MAX_MS,
      maxElapsedMs: e.TRIBUTARY_POLL_PAGE_DEADLINE_MS,
    },
    transactionalIdPrefix: e.TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX,
    transactionTimeoutMs: e.TRIBUTARY_POLL_TRANSACTION_TIMEOUT_MS,
    groupId: `${e.TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX}.owners`,
    sessionTimeoutMs: e.TRIBUTARY_POLL_SESSION_TIMEOUT_MS,
    topics: {
      workspaces: { raw: t.topics.rawWorkspaces, dlq: t.topics.sourceDlqWorkspaces },
      'enrichment-jobs': { raw: t.topics.rawJobs, dlq: t.topics.sourceDlqJobs },
      state: t.topics.pollerState,
      metrics: t.topics.metrics,
      walks: t.topics.walks,
    },
  };
}

/** The stable transactional id of one poller: a restarted poller fences its previous incarnation. */
export function transactionalId(opts: Pick<PollersOptions, 'transactionalIdPrefix'>, api: ApiName): string {
  return `${opts.transactionalIdPrefix}.${api}`;
}
