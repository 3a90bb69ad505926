import type { RoleDefinition } from '../runtime/role.ts';
import { startMockSource } from './index.ts';
import { type MockSourceOptions, mockSourceOptions } from './options.ts';

/**
 * The fake source APIs as a pipeline role: started first, so the pollers have something to read.
 * Its world lives in Postgres (TRIBUTARY_MOCK_SOURCE_SCHEMA), so a restart continues it.
 */
export const mockSourceRole: RoleDefinition<MockSourceOptions> = {
  name: 'mock-source',
  description: 'fake workspaces and enrichment-jobs REST APIs (Faker data, change feed, fault knobs)',
  options: mockSourceOptions,
  async start(ctx, options) {
    // Its world store (a lock session and a pool, mock-source/pg-world.ts) is opened and closed by
    // the mock source itself: the lock is what keeps a second mock source off the same world.
    const handle = await startMockSource(options, {
      logger: ctx.logger,
      postgresUrl: ctx.infra.postgres.url,
    });
    return { summary: handle.url, close: () => handle.close() };
  },
};
