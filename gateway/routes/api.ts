import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerMatches } from '../../common/ops-server.ts';
import type { AlertEngine } from '../alerts/engine.ts';
import { alertRoutes } from '../alerts/routes.ts';
import type { LineageService } from '../analytics/lineage.ts';
import type { Analytics } from '../analytics/queries.ts';
import {
  Breakdown,
  DimensionEnum,
  Durations,
  ErrorReply,
  JobLineage,
  JobsPage,
  JobsQuery,
  Kpis,
  StatusCounts,
  StatusEnum,
  SuccessRate,
  Throughput,
  WorkspaceSummary,
} from '../schemas.ts';

export interface ApiOptions {
  analytics: Analytics;
  alerts?: AlertEngine;
  lineage?: LineageService;
  token?: string;
  rateLimitPerMinute: number;
  kpiWindowMinutes: number;
}

const Minutes = (def: number) =>
  Type.Object(
    { minutes: Type.Integer({ minimum: 1, maximum: 1440, default: def }) },
    { additionalProperties: false },
  );
const errors = { 400: ErrorReply, 401: ErrorReply, 429: ErrorReply };
const tags = ['analytics'];

/**
 * The analytics API (mounted under /api): read-only numbers from the gold table. Rate-limited per
 * client and, when a token is configured, behind `Authorization: Bearer <token>`; both hooks are
 * scoped to this plugin, so /healthz and the dashboard's files are not affected.
 */
export const apiRoutes: FastifyPluginAsyncTypebox<ApiOptions> = async (app, opts) => {
  const { analytics } = opts;
  await app.register(rateLimit, { max: opts.rateLimitPerMinute, timeWindow: '1 minute' });
  if (opts.token !== undefined) {
    const token = opts.token;
    app.addHook('onRequest', async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, token)) {
        return reply
          .code(401)
          .send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong bearer token' });
      }
    });
  }
  const security = opts.token !== undefined ? [{ bearerAuth: [] }] : undefined;

  app.get(
    '/overview',
    {
      schema: {
        tags,
        security,
        summary: 'All KPIs of the dashboard, from one snapshot of the gold table',
        querystring: Minutes(opts.kpiWindowMinutes),
        response: { 200: Kpis, ...errors },
      },
    },
    async (req) => analytics.kpis(req.query.minutes),
  );

  app.get(
    '/stats/status',
    { schema: { tags, security, summary: 'Jobs by status', response: { 200: StatusCounts, ...errors } } },
    async () => analytics.statusCounts(),
  );

  app.get(
    '/stats/success-rate',
    {
      schema: {
        tags,
        security,
        summary: 'completed / (completed + failed), and enriched / requested records of those jobs',
        response: { 200: SuccessRate, ...errors },
      },
    },
    async () => analytics.successRate(),
  );

  app.get(
    '/stats/durations',
    {
      schema: {
        tags,
        security,
        summary: 'p50 and p95 of finished_at - created_at over finished jobs',
        querystring: Type.Object({ status: Type.Optional(StatusEnum) }, { additionalProperties: false }),
        response: { 200: Durations, ...errors },
      },
    },
    async (req) => analytics.durations({ status: req.query.status }),
  );

  app.get(
    '/stats/throughput',
    {
      schema: {
        tags,
        security,
        summary: 'Finished jobs per minute over the last `minutes` minutes (the current minute included)',
        querystring: Minutes(60),
        response: { 200: Throughput, ...errors },
      },
    },
    async (req) => analytics.throughput(req.query.minutes),
  );

  app.get(
    '/stats/breakdown/:dimension',
    {
      schema: {
        tags,
        security,
        summary: 'Jobs and success rates by workspace plan, segment or country',
        params: Type.Object({ dimension: DimensionEnum }),
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
          { additionalProperties: false },
        ),
        response: { 200: Breakdown, ...errors },
      },
    },
    async (req) => analytics.breakdown(req.params.dimension, req.query.limit),
  );

  app.get(
    '/workspaces',
    {
      schema: {
        tags,
        security,
        summary: 'Per-workspace summaries, busiest first',
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ workspaces: Type.Array(WorkspaceSummary) }), ...errors },
      },
    },
    async (req) => ({ workspaces: await analytics.workspaces(req.query.limit) }),
  );

  app.get(
    '/workspaces/:workspaceId',
    {
      schema: {
        tags,
        security,
        summary: 'One workspace: its jobs, success rates and durations',
        params: Type.Object({ workspaceId: Type.String({ format: 'uuid' }) }),
        response: { 200: WorkspaceSummary, 404: ErrorReply, ...errors },
      },
    },
    async (req, reply) => {
      const summary = await analytics.workspace(req.params.workspaceId);
      if (summary) return summary;
      return reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `no jobs for workspace ${req.params.workspaceId}`,
      });
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        tags,
        security,
        summary:
          'Recent jobs, newest first, filtered; keyset pagination with `cursor` = the previous `nextCursor`',
        querystring: Type.Object(JobsQuery.properties, { additionalProperties: false }),
        response: { 200: JobsPage, ...errors },
      },
    },
    async (req) => analytics.recentJobs(req.query),
  );

  if (opts.alerts) alertRoutes(app, { alerts: opts.alerts, security, errors });
  app.get(
    '/jobs/:jobId/lineage',
    {
      schema: {
        tags,
        security,
        summary:
          'Where a job came from and where it went: each version of it and of its workspace, from the source request to raw, bronze, gold and the stores (the trace of `tributary trace`)',
        params: Type.Object({ jobId: Type.String({ format: 'uuid' }) }),
        response: { 200: JobLineage, 404: ErrorReply, 503: ErrorReply, ...errors },
      },
    },
    async (req, reply) => {
      if (!opts.lineage) {
        return reply
          .code(503)
          .send({ statusCode: 503, error: 'Service Unavailable', message: 'lineage is not configured' });
      }
      const lineage = await opts.lineage.trace(req.params.jobId);
      if (lineage) return lineage;
      return reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `job ${req.params.jobId} is in no bronze table, gold table or gold collection`,
      });
    },
  );
};
