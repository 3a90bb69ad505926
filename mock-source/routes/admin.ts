import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerMatches } from '../../common/ops-server.ts';
import type { FaultInjector } from '../faults.ts';
import { type RequestCounters, unauthorized } from '../guard.ts';
import { ErrorBody, FaultsBody, FaultsPatch, PausedBody, Stats, TickBody, VersionList } from '../schemas.ts';
import type { Ticker } from '../ticker.ts';
import { iso } from '../wire.ts';
import type { Awaitable, FeedReader, WorldCounts } from '../world.ts';

export interface AdminRoutesOptions {
  adminToken: string;
  /** the counts of the world as stored */
  stats: () => Awaitable<WorldCounts>;
  ticker: Ticker;
  faults: FaultInjector;
  workspaces: FeedReader;
  jobs: FeedReader;
  counters: RequestCounters;
}

/**
 * Controls for tests and demos: fault knobs, the simulator, and the full list of versions (which a
 * test compares with what a client collected, to prove nothing was missed or duplicated).
 */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, opts) => {
  const { stats, ticker, faults, workspaces, jobs, counters } = opts;
  const tags = ['admin'];
  const security = [{ adminToken: [] }];
  const errors = { 400: ErrorBody, 401: ErrorBody };

  app.addHook('onRequest', async (request, reply) => {
    if (!bearerMatches(request.headers.authorization, opts.adminToken)) {
      return unauthorized(reply, 'missing or wrong admin token');
    }
  });

  app.get(
    '/faults',
    { schema: { summary: 'The fault settings', tags, security, response: { 200: FaultsBody, ...errors } } },
    async () => faults.settings(),
  );

  app.put(
    '/faults',
    {
      schema: {
        summary: 'Change some fault settings; answers all of them',
        tags,
        security,
        body: FaultsPatch,
        response: { 200: FaultsBody, ...errors },
      },
    },
    async (request) => faults.update(request.body),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/simulator/${action}`,
      {
        schema: {
          summary: `${action} the simulator's timer`,
          tags,
          security,
          response: { 200: PausedBody, ...errors },
        },
      },
      async () => {
        await ticker[action]();
        return { paused: ticker.paused };
      },
    );
  }

  app.post(
    '/simulator/tick',
    {
      schema: {
        summary: 'Advance the simulator by exactly one tick, now (works while paused)',
        tags,
        security,
        response: { 200: TickBody, ...errors },
      },
    },
    async () => {
      const result = await ticker.tick();
      return { ...result, at: iso(result.at) };
    },
  );

  app.get(
    '/stats',
    {
      schema: {
        summary: 'Counts of records, versions and requests',
        tags,
        security,
        response: { 200: Stats, ...errors },
      },
    },
    async () => ({
      ...(await stats()),
      paused: ticker.paused,
      requests: counters.requests,
      throttled: counters.throttled,
    }),
  );

  for (const [path, store] of [
    ['workspaces', workspaces],
    ['enrichment-jobs', jobs],
  ] as const) {
    app.get(
      `/versions/${path}`,
      {
        schema: {
          summary: `Every ${path} version in feed order, malformed ones flagged`,
          tags,
          security,
          response: { 200: VersionList, ...errors },
        },
      },
      async () =>
        (await store.list()).map((v) => ({ id: v.id, updated_at: iso(v.updatedAt), malformed: v.malformed })),
    );
  }
};
