import type { RoleDefinition } from '../runtime/role.ts';
import { startMockSource } from './index.ts';
import { mockSourceOptions } from './options.ts';

/**
 * The fake source APIs as a pipeline role: started first, so the pollers have something to read.
 * Its world lives in Postgres (TRIBUTARY_MOCK_SOURCE_SCHEMA), so a restart continues it.
 */
export const mockSourceRole: RoleDefinition = {
  name: 'mock-source',
  description: 'fake workspaces and enrichment-jobs REST APIs (Faker data, change feed, fault knobs)',
  async start(ctx) {
    const handle = await startMockSource(mockSourceOptions(ctx.env), {
      logger: ctx.logger,
      postgresUrl: ctx.infra.postgres.url,
    });
    return { summary: handle.url, close: () => handle.close() };
  },
};
