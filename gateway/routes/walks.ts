import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { bearerMatches } from '../../common/ops-server.ts';
import { API_NAMES } from '../../producers/apis.ts';
import { ErrorReply } from '../schemas.ts';
import type { Walks } from '../walks/index.ts';

/**
 * GET /api/walks: the reconciliation per walk (newest first), and GET /api/walks/health: per API the
 * unreconciled and pending walks (what the `tributary_walks_*` gauges say). Same token and rate
 * limit as the analytics API.
 */
const Count = Type.Integer({ minimum: 0 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('reconciled'),
  Type.Literal('unreconciled'),
]);

export const WalkSchema = Type.Object({
  walkId: Type.String(),
  api: Type.String(),
  rawTopic: Type.String(),
  outcome: Type.Union([Type.Literal('complete'), Type.Literal('stopped'), Type.Literal('failed')]),
  startedAt: Type.Number({ description: 'epoch ms' }),
  endedAt: Type.Number({ description: 'epoch ms' }),
  pages: Count,
  served: Type.Integer({ description: 'new versions served: published + the poller’s dead letters' }),
  duplicates: Type.Integer({ description: 'versions served again (overlap window) and dropped' }),
  published: Count,
  pollerDeadLetters: Count,
  rawOffsets: Type.Array(Type.Object({ partition: Count, first: Type.String(), last: Type.String() })),
  status: Status,
  inBronze: Nullable(Type.Integer()),
  deadLetters: Nullable(Type.Integer({ description: 'the poller’s and bronze’s dead letters of the walk' })),
  missing: Nullable(Type.Integer()),
  goldRows: Nullable(Type.Integer({ description: 'gold rows whose current version this walk served' })),
  checkedAt: Nullable(Type.Number()),
});

const WalkHealthSchema = Type.Object({
  api: Type.String(),
  unreconciled: Count,
  pending: Count,
  oldestPendingSeconds: Type.Number(),
});

const errors = { 400: ErrorReply, 401: ErrorReply, 429: ErrorReply };
const tags = ['walks'];

export const walkRoutes: FastifyPluginAsyncTypebox<{
  walks: Walks;
  token?: string;
  rateLimitPerMinute: number;
}> = async (app, opts) => {
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
    '/walks',
    {
      schema: {
        tags,
        security,
        summary: 'Poller walks and how they reconciled with bronze, newest first',
        querystring: Type.Object(
          {
            api: Type.Optional(Type.Union(API_NAMES.map((a) => Type.Literal(a)))),
            status: Type.Optional(Status),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ walks: Type.Array(WalkSchema) }), ...errors },
      },
    },
    async (req) => ({ walks: await opts.walks.list(req.query) }),
  );

  app.get(
    '/walks/health',
    {
      schema: {
        tags,
        security,
        summary: 'Per API: walks that do not reconcile, and walks still waiting for bronze',
        response: { 200: Type.Object({ apis: Type.Array(WalkHealthSchema) }), ...errors },
      },
    },
    async () => ({ apis: opts.walks.health() }),
  );
};
