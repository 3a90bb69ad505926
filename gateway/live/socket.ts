import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server } from 'socket.io';
import { bearerMatches, tokenMatches } from '../../common/ops-server.ts';
import { createTokenBucket } from '../../common/token-bucket.ts';
import { isJobStatus, JOB_STATUSES } from '../../contracts/job-status.ts';
import type { AlertEngine } from '../alerts/engine.ts';
import type { Analytics } from '../analytics/queries.ts';
import type { ClientToServerEvents, RecentJobsQuery, ServerToClientEvents } from '../events.ts';
import { addSecurityHeaders, type HostPolicy, hostAllowed } from '../security.ts';
import type { LiveHub } from './hub.ts';

export type GatewayIo = Server<ClientToServerEvents, ServerToClientEvents>;

/**
 * Socket.IO on the gateway's HTTP server. A new client gets the rolling history and the latest
 * update, then every update the hub publishes (one broadcast per tick, whatever the number of
 * clients). With a token configured, the handshake must carry it (`auth.token` or a Bearer header).
 * Browsers from other origins are refused unless allowlisted: WebSockets are not covered by CORS;
 * so are foreign Host names (DNS rebinding, see security.ts). `jobs:recent` opens a transaction on
 * the small analytics pool, so each client address gets `rateLimitPerMinute` of them (a token bucket
 * shared by its sockets), like /api: one client cannot starve the others.
 */
export function attachSocket(
  server: HttpServer,
  deps: {
    hub: LiveHub;
    alerts?: AlertEngine;
    analytics: Analytics;
    token?: string;
    corsOrigins: string[];
    hosts: HostPolicy;
    rateLimitPerMinute: number;
    onClients?: (count: number) => void;
    now?: () => number;
  },
): { io: GatewayIo; close(): void } {
  const io: GatewayIo = new Server(server, {
    serveClient: false,
    cors: deps.corsOrigins.length > 0 ? { origin: deps.corsOrigins } : undefined,
    allowRequest: (req, done) =>
      done(null, hostAllowed(req.headers.host, deps.hosts) && originAllowed(req, deps.corsOrigins)),
  });
  // the handshake and polling answers do not go through Fastify's hooks
  io.engine.on('headers', (headers: Record<string, unknown>) => addSecurityHeaders(headers));
  const queries = createTokenBucket({
    capacity: deps.rateLimitPerMinute,
    refillPerSecond: deps.rateLimitPerMinute / 60,
    now: deps.now ?? Date.now,
  });
  if (deps.token !== undefined) {
    const token = deps.token;
    io.use((socket, next) => {
      const ok =
        tokenMatches(socket.handshake.auth?.token, token) ||
        bearerMatches(socket.handshake.headers.authorization, token);
      next(ok ? undefined : new Error('unauthorized'));
    });
  }
  io.on('connection', (socket) => {
    deps.onClients?.(io.engine.clientsCount);
    socket.on('disconnect', () => deps.onClients?.(io.engine.clientsCount));
    socket.emit('history', deps.hub.history());
    const latest = deps.hub.latest();
    if (latest) socket.emit('live', latest);
    if (deps.alerts) socket.emit('alerts', deps.alerts.snapshot());
    socket.on('jobs:recent', (query, ack) => {
      if (typeof ack !== 'function') return;
      const taken = queries.take(socket.handshake.address);
      if (!taken.allowed) {
        ack({ ok: false, error: `rate limit exceeded: retry in ${taken.retryAfterSeconds} s` });
        return;
      }
      const q = validQuery(query);
      if (!q) {
        ack({ ok: false, error: `status must be one of ${JOB_STATUSES.join(', ')}; limit 1-50` });
        return;
      }
      deps.analytics.recentJobs(q).then(
        (page) => ack({ ok: true, page }),
        () => ack({ ok: false, error: 'the gold table could not be read; see the gateway log' }),
      );
    });
  });
  const unsubscribe = deps.hub.subscribe((update) => io.emit('live', update));
  const unsubscribeAlerts = deps.alerts?.subscribe((snapshot) => io.emit('alerts', snapshot));
  return {
    io,
    close() {
      unsubscribe();
      unsubscribeAlerts?.();
      // closing the transports (not disconnecting the sockets) lets clients reconnect on their
      // own to the next gateway; the HTTP server is its owner's to close
      io.engine.close();
    },
  };
}

function validQuery(
  query: RecentJobsQuery | undefined,
): { status?: RecentJobsQuery['status']; limit: number } | undefined {
  const status = query?.status;
  const limit = query?.limit ?? 10;
  if (status !== undefined && !isJobStatus(status)) return undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) return undefined;
  return { status, limit };
}

function originAllowed(req: IncomingMessage, allowlist: string[]): boolean {
  const origin = req.headers.origin;
  // no Origin: not a browser page (CLI, tests, server-to-server); the token still applies
  if (origin === undefined) return true;
  if (allowlist.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
