import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerMatches } from '../../common/ops-server.ts';
import type { FaultInjector } from '../faults.ts';
import { type RequestCounters, unauthorized } from '../guard.ts';
import { ErrorBody, FaultsBody, FaultsPatch, PausedBody, Stats, TickBody, VersionList } from '../schemas.ts';
import type { Simulator } from '../simulator.ts';
import type { VersionStore } from '../store.ts';
import { iso } from '../wire.ts';

export interface AdminRoutesOptions {
  adminToken: string;
  simulator: Simulator;
  faults: FaultInjector;
  workspaces: VersionStore;
  jobs: VersionStore;
  counters: RequestCounters;
}

/**
 * Controls for tests and demos: fault knobs, the simulator, and the full list of versions (which a
 * test compares with what a client collected, to prove nothing was missed or duplicated).
 */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, opts) => {
  const { simulator, faults, workspaces, jobs, counters } = opts;
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
        simulator[action]();
        return { paused: simulator.paused };
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
      const result = simulator.tick();
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
      ...simulator.counts(),
      workspaceVersions: workspaces.size,
      jobVersions: jobs.size,
      malformedVersions: workspaces.malformed + jobs.malformed,
      paused: simulator.paused,
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
        store.all().map((v) => ({ id: v.id, updated_at: iso(v.updatedAt), malformed: v.malformed })),
    );
  }
};
