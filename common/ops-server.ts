import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import client from 'prom-client';
import { ConfigError, describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { RoleMetrics } from './metrics.ts';

/**
 * The operations endpoints of a long-running process: /healthz (the process answers), /readyz (its
 * dependencies answer) and /metrics (Prometheus text of every role it runs). A plain Fastify
 * instance, so each role process gets the same probes without writing a server.
 */
/**
 * What /readyz answers: a plain verdict, or one with details (per role: stalled and why), which are
 * sent as they are next to `status`.
 */
export type Readiness = boolean | { ready: boolean; [detail: string]: unknown };

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: RoleMetrics[];
  /** true when the process can do its work (its servers answer, its roles progress); errors count as not ready */
  ready: () => Promise<Readiness>;
  /** required when host is not a loopback address; then /metrics needs `Authorization: Bearer <token>` */
  token?: string;
  logger?: Logger;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  requireTokenOffLoopback(opts.host, opts.token, 'TRIBUTARY_OPS_TOKEN');
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger | undefined,
    // probes every few seconds would drown the role's own log lines
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, opts);
  await app.listen({ host: opts.host, port: opts.port });
  return { url: serverUrl(app), close: () => app.close() };
}

/** The three routes, for a Fastify instance the caller owns (the gateway mounts them too). */
export function registerOpsRoutes(
  app: FastifyInstance,
  opts: Pick<OpsServerOptions, 'metrics' | 'ready' | 'token'> & { extraRegistries?: client.Registry[] },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const answer = await opts
      .ready()
      .catch((err): Readiness => ({ ready: false, error: describeError(err) }));
    const { ready, ...detail } = typeof answer === 'boolean' ? { ready: answer } : answer;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...detail });
  });
  app.get('/metrics', async (req, reply) => {
    if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
      return reply
        .code(401)
        .send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong token' });
    }
    const text = await renderMetrics(opts.metrics, opts.extraRegistries);
    return reply.type(client.prometheusContentType).send(text);
  });
}

/**
 * Prometheus text of several registries. Two roles of the same kind in one process register the
 * same metric names, which a plain concatenation would repeat (invalid exposition); prom-client's
 * aggregator merges them into one family per name, keeping the `role` label apart.
 */
export async function renderMetrics(metrics: RoleMetrics[], extra: client.Registry[] = []): Promise<string> {
  const all = await Promise.all(
    [...metrics.map((m) => m.registry), ...extra].map((r) => r.getMetricsAsJSON()),
  );
  return client.AggregatorRegistry.aggregate(all).metrics();
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts a server may bind without a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Fails start-up, naming the setting, when a server would be reachable from outside without a token. */
export function requireTokenOffLoopback(host: string, token: string | undefined, field: string): void {
  if (!isLoopbackHost(host) && !token) {
    throw new ConfigError(
      field,
      `is not set, but the server binds to ${host}, which is reachable from other machines`,
      `set ${field} to a random secret (e.g. \`openssl rand -hex 32\`), or bind to 127.0.0.1`,
    );
  }
}

/** Constant-time comparison of `Authorization: Bearer <token>` (hashing makes lengths equal). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match !== null && tokenMatches(match[1]!.trim(), token);
}

export function tokenMatches(given: unknown, token: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The URL a listening Fastify instance answers on (the real port when it was 0). */
export function serverUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
