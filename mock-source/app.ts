import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, LogController } from 'fastify';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import type { TokenBucket } from '../common/token-bucket.ts';
import { MOCK_SOURCE_METRICS } from '../contracts/metrics/index.ts';
import type { FaultInjector } from './faults.ts';
import { installApiGuard, type RequestCounters } from './guard.ts';
import { adminRoutes } from './routes/admin.ts';
import { feedRoutes } from './routes/feed.ts';
import { opsRoutes } from './routes/ops.ts';
import { JobBody, WorkspaceBody } from './schemas.ts';
import type { Ticker } from './ticker.ts';
import type { Awaitable, FeedReader, WorldCounts } from './world.ts';

export interface MockSourceAppDeps {
  adminToken: string;
  /** when set, /v1 requires `authorization: Bearer <apiToken>` */
  apiToken?: string;
  workspaces: FeedReader;
  jobs: FeedReader;
  /** the counts of the world as stored */
  stats: () => Awaitable<WorldCounts>;
  ticker: Ticker;
  faults: FaultInjector;
  bucket: TokenBucket;
  metrics: RoleMetrics;
  logger?: Logger;
  /** how slow responses wait; injectable so tests observe it instead of waiting */
  sleep?: (ms: number) => Promise<void>;
}

/** The HTTP side of the mock source: every route and hook, without listening. */
export function buildMockSourceApp(deps: MockSourceAppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    // the pollers call this every second or so: a log line per request would drown everything else
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false, // always our own id: it is the lineage key the pollers copy to Kafka
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Records are served exactly as stored, malformed versions included: fast-json-stringify would
  // coerce "12" to 12 or throw on a missing field. Response schemas are for the docs only.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const httpRequests = deps.metrics.counter(MOCK_SOURCE_METRICS.httpRequests);
  const counters: RequestCounters = { requests: 0, throttled: 0 };

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    httpRequests.inc({ route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'Bad Request', message: err.message });
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).send({
      error: STATUS_CODES[status] ?? 'Error',
      message: status >= 500 ? 'internal error' : err.message,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );

  app.addSchema(WorkspaceBody);
  app.addSchema(JobBody);
  app.register(swagger, {
    // components named after the schemas' $id (Workspace, EnrichmentJob) instead of def-0, def-1
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      info: {
        title: 'Tributary mock source',
        version: '1.0.0',
        description:
          'Fake workspaces and enrichment-jobs APIs. The list endpoints are a change feed of versions ' +
          'ordered by (updated_at, id); see mock-source/README.md.',
      },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'required when bound beyond loopback' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN' },
        },
      },
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  app.register(
    async (v1) => {
      installApiGuard(v1, {
        apiToken: deps.apiToken,
        bucket: deps.bucket,
        faults: deps.faults,
        counters,
        metrics: deps.metrics,
        sleep: deps.sleep ?? ((ms) => delay(ms)),
      });
      await v1.register(feedRoutes, {
        path: 'workspaces',
        noun: 'workspace',
        store: deps.workspaces,
        itemId: 'Workspace',
      });
      await v1.register(feedRoutes, {
        path: 'enrichment-jobs',
        noun: 'enrichment job',
        store: deps.jobs,
        itemId: 'EnrichmentJob',
      });
    },
    { prefix: '/v1' },
  );
  app.register(adminRoutes, {
    prefix: '/admin',
    adminToken: deps.adminToken,
    stats: deps.stats,
    ticker: deps.ticker,
    faults: deps.faults,
    workspaces: deps.workspaces,
    jobs: deps.jobs,
    counters,
  });
  app.register(opsRoutes, { metrics: deps.metrics });
  return app;
}

export type MockSourceApp = ReturnType<typeof buildMockSourceApp>;
