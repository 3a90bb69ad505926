import type { RoleDefinition } from '../runtime/role.ts';
import { startGateway } from './gateway.ts';
import { gatewayOptions } from './options.ts';
import { walksOptions } from './walks/options.ts';

/** The gateway as a role of `tributary start`: its summary is the dashboard's URL. */
export const gatewayRole: RoleDefinition = {
  name: 'gateway',
  description: 'analytics API, live Socket.IO feed and the dashboard',
  async start(ctx) {
    const options = gatewayOptions(ctx.env);
    const gateway = await startGateway({
      options,
      infra: ctx.infra,
      logger: ctx.logger,
      liveness: ctx.liveness,
      walks: walksOptions(ctx.env),
      env: ctx.env,
    });
    return {
      summary: `dashboard ${gateway.url}/ (API docs ${gateway.url}/docs)`,
      metrics: [gateway.metrics],
      close: () => gateway.close(),
    };
  },
};
