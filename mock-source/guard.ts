import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RoleMetrics } from '../common/metrics.ts';
import { bearerMatches } from '../common/ops-server.ts';
import type { TokenBucket } from '../common/token-bucket.ts';
import { MOCK_SOURCE_METRICS } from '../contracts/metrics/index.ts';
import type { FaultInjector } from './faults.ts';

export interface RequestCounters {
  requests: number;
  throttled: number;
}

export function unauthorized(reply: FastifyReply, what: string) {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer')
    .send({ error: 'Unauthorized', message: `${what}: send authorization: Bearer <token>` });
}

/**
 * The rate limit's key: the client's address. Never a header the client chooses (an `x-client-id`
 * used to be the key, and sending a new one per request bypassed the limit). Behind a proxy every
 * client shares the proxy's address, which is the conservative side.
 */
const clientKey = (request: FastifyRequest) => `ip:${request.ip}`;

const FIVE_XX = [500, 502, 503] as const;

/**
 * The hooks in front of the /v1 API, in order: the API token (when configured), the per-client token
 * bucket, then the injected faults (429, 5xx, slow, and, on the way out, a truncated body).
 * Authentication comes first so that nobody can drain another client's bucket anonymously.
 */
export function installApiGuard(
  app: FastifyInstance,
  deps: {
    apiToken?: string;
    bucket: TokenBucket;
    faults: FaultInjector;
    counters: RequestCounters;
    metrics: RoleMetrics;
    sleep: (ms: number) => Promise<void>;
  },
): void {
  const { faults, counters } = deps;
  const injected = deps.metrics.counter(MOCK_SOURCE_METRICS.faultsInjected);
  const throttled = deps.metrics.counter(MOCK_SOURCE_METRICS.throttled);

  app.addHook('onRequest', async (request, reply) => {
    counters.requests++;
    if (deps.apiToken !== undefined && !bearerMatches(request.headers.authorization, deps.apiToken)) {
      return unauthorized(reply, 'missing or wrong API token');
    }
    const taken = deps.bucket.take(clientKey(request));
    if (!taken.allowed) {
      counters.throttled++;
      throttled.inc();
      return tooMany(reply, taken.retryAfterSeconds, 'rate limit exceeded for this client');
    }
    if (faults.roll('rate429')) {
      injected.inc({ kind: '429' });
      return tooMany(reply, faults.settings().retryAfterSeconds, 'injected fault: try again later');
    }
    if (faults.roll('rate5xx')) {
      injected.inc({ kind: '5xx' });
      const status = FIVE_XX[Math.floor(faults.random() * FIVE_XX.length)] ?? 503;
      return reply.code(status).send({ error: STATUS_CODES[status]!, message: 'injected fault' });
    }
    if (faults.roll('rateSlow')) {
      injected.inc({ kind: 'slow' });
      await deps.sleep(faults.settings().slowMs);
    }
  });

  // the body is already serialized here; a 200 with a broken body is what a flaky proxy produces
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode !== 200 || typeof payload !== 'string' || !faults.roll('rateTruncated')) {
      return payload;
    }
    injected.inc({ kind: 'truncated' });
    if (faults.random() < 0.5) return payload.slice(0, Math.floor(payload.length / 2));
    return '<html><body><h1>502 Bad Gateway</h1></body></html>';
  });
}

function tooMany(reply: FastifyReply, retryAfterSeconds: number, message: string) {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return reply
    .code(429)
    .header('retry-after', String(seconds))
    .send({ error: 'Too Many Requests', message: `${message}; retry after ${seconds} s` });
}
