import type { RoleDefinition } from '../runtime/role.ts';
import { startGateway } from './gateway.ts';
import { type GatewayOptions, gatewayOptions } from './options.ts';
import { type WalksOptions, walksOptions } from './walks/options.ts';

export interface GatewayRoleOptions {
  gateway: GatewayOptions;
  /** the reconciliation per walk (gateway/walks/) */
  walks: WalksOptions;
}

/** The gateway as a role of `tributary start`: its summary is the dashboard's URL. */
export const gatewayRole: RoleDefinition<GatewayRoleOptions> = {
  name: 'gateway',
  description: 'analytics API, live Socket.IO feed and the dashboard',
  options: (env) => ({ gateway: gatewayOptions(env), walks: walksOptions(env) }),
  async start(ctx, options) {
    const gateway = await startGateway({
      options: options.gateway,
      clients: ctx.clients,
      logger: ctx.logger,
      liveness: ctx.liveness,
      walks: options.walks,
    });
    return {
      summary: `dashboard ${gateway.url}/ (API docs ${gateway.url}/docs)`,
      metrics: [gateway.metrics],
      close: () => gateway.close(),
    };
  },
};
