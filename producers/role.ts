import type { RoleDefinition } from '../runtime/role.ts';
import { type PollersOptions, pollersOptions } from './options.ts';
import { startPollers } from './pollers.ts';

/** The pollers as a pipeline role: `tributary start --role pollers`. */
export const pollersRole: RoleDefinition<PollersOptions> = {
  name: 'pollers',
  description: 'polls the workspaces and enrichment-jobs APIs into the raw Avro topics, exactly once',
  options: pollersOptions,
  async start(ctx, options) {
    const running = await startPollers({
      clients: ctx.clients,
      options,
      logger: ctx.logger,
      liveness: ctx.liveness,
    });
    return {
      summary: `${options.pollers.join(' + ')} as the pollers group ${options.groupId} assigns them, from ${options.sourceUrl} every ${options.intervalMs} ms`,
      metrics: [running.metrics],
      close: running.close,
    };
  },
};
