import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyTypeProviderDefault,
  LogController,
  type RawServerDefault,
} from 'fastify';
import type client from 'prom-client';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import { type Readiness, registerOpsRoutes } from '../common/ops-server.ts';
import { GATEWAY_METRICS } from '../contracts/metrics/index.ts';
import type { AlertEngine } from './alerts/engine.ts';
import { BadCursorError } from './analytics/cursor.ts';
import type { LineageService } from './analytics/lineage.ts';
import type { Analytics } from './analytics/queries.ts';
import type { LiveHub } from './live/hub.ts';
import { attachSocket } from './live/socket.ts';
import type { GatewayOptions } from './options.ts';
import { apiRoutes } from './routes/api.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { walkRoutes } from './routes/walks.ts';
import { docsGuard, hostPolicy, installSecurity } from './security.ts';
import type { Walks } from './walks/index.ts';

export interface AppDeps {
  options: GatewayOptions;
  analytics: Analytics;
  /** the job lineage trace; without it /api/jobs/{id}/lineage answers 503 */
  lineage?: LineageService;
  hub: LiveHub;
  /** the alert rules' state (GET /api/alerts, the `alerts` socket event) */
  alerts?: AlertEngine;
  metrics: RoleMetrics;
  /** process-level metrics (memory, event loop) and kafka-exporter's lag gauges, served next to the role's without its label */
  processRegistry?: client.Registry;
  /** Postgres and Kafka answer, and the live feed progresses */
  ready: () => Promise<Readiness>;
  logger?: Logger;
  /** the reconciliation per walk (GET /api/walks), when enabled */
  walks?: Walks;
}

/**
 * The gateway's plugin tree, not listening yet (tests call `listen({ port: 0 })` or `inject`):
 * CORS and OpenAPI at the root, the analytics API under /api, the ops probes, the dashboard's
 * files, and Socket.IO on the same HTTP server.
 */
export type GatewayApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export async function buildApp(deps: AppDeps): Promise<GatewayApp> {
  const { options } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger | undefined,
    // probes and scrapes every few seconds would drown the access log
    logController: new LogController({
      disableRequestLogging: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url),
    }),
    // sockets and keep-alive connections must not hold the shutdown
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof BadCursorError) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err, url: req.url }, 'request failed');
      return reply.code(500).send({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'the request failed; see the gateway log',
      });
    }
    return reply.code(status).send({ statusCode: status, error: errorName(status), message: err.message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url}` }),
  );

  // first: a request for a foreign Host name (DNS rebinding) is refused before any route runs
  const hosts = hostPolicy(options);
  installSecurity(app, hosts);
  // no CORS headers at all unless origins are allowlisted: the dashboard is same-origin
  await app.register(cors, { origin: options.corsOrigins.length > 0 ? options.corsOrigins : false });
  await app.register(swagger, {
    hideUntagged: true,
    openapi: {
      info: { title: 'Tributary gateway', version: '0.1.0', description: 'Analytics over the gold table' },
      components:
        options.token !== undefined
          ? { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } }
          : undefined,
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // the API's shape is not for everyone once the API itself needs a token
    uiHooks: options.token !== undefined ? { onRequest: docsGuard(options.token) } : undefined,
  });

  registerOpsRoutes(app.withTypeProvider<FastifyTypeProviderDefault>(), {
    metrics: [deps.metrics],
    extraRegistries: deps.processRegistry ? [deps.processRegistry] : [],
    ready: deps.ready,
    token: options.token,
  });
  await app.register(apiRoutes, {
    prefix: '/api',
    analytics: deps.analytics,
    alerts: deps.alerts,
    lineage: deps.lineage,
    token: options.token,
    rateLimitPerMinute: options.rateLimitPerMinute,
    kpiWindowMinutes: options.kpiWindowMinutes,
  });
  if (deps.walks) {
    await app.register(walkRoutes, {
      prefix: '/api',
      walks: deps.walks,
      token: options.token,
      rateLimitPerMinute: options.rateLimitPerMinute,
    });
  }
  await app.register(dashboardRoutes, { dir: options.dashboardDir });

  const clients = deps.metrics.gauge(GATEWAY_METRICS.socketClients);
  const socket = attachSocket(app.server, {
    hub: deps.hub,
    alerts: deps.alerts,
    analytics: deps.analytics,
    token: options.token,
    corsOrigins: options.corsOrigins,
    hosts,
    rateLimitPerMinute: options.rateLimitPerMinute,
    onClients: (n) => clients.set(n),
  });
  app.addHook('preClose', async () => socket.close());
  return app;
}

function errorName(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' }[
      status
    ] ?? 'Error'
  );
}
