import type { RoleDefinition } from '../runtime/role.ts';
import { pollersOptions } from './options.ts';
import { startPollers } from './pollers.ts';

/** The pollers as a pipeline role: `tributary start --role pollers`. */
export const pollersRole: RoleDefinition = {
  name: 'pollers',
  description: 'polls the workspaces and enrichment-jobs APIs into the raw Avro topics, exactly once',
  async start(ctx) {
    const options = pollersOptions(ctx.env);
    const running = await startPollers({
      infra: ctx.infra,
      options,
      logger: ctx.logger,
      liveness: ctx.liveness,
      env: ctx.env,
    });
    return {
      summary: `${options.pollers.join(' + ')} as the pollers group ${options.groupId} assigns them, from ${options.sourceUrl} every ${options.intervalMs} ms`,
      metrics: [running.metrics],
      close: running.close,
    };
  },
};
