import { instanceId } from '../common/instance.ts';
import type { Liveness } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { type ClientFactory, createClientFactory } from './clients.ts';
import type { InfraOptions } from './endpoints.ts';
import type { RoleDefinition, RunningRole } from './role.ts';

/**
 * Starts one role with a fresh client factory and returns it with a `close()` that first closes
 * the role (it finishes its batch in flight and commits) and then every client the role opened,
 * once. A start that fails closes the clients opened so far before the error is rethrown. Used by
 * the supervisor (each restart gets new clients), rebuild-gold's shadow roles, the benchmark and
 * the tests that start a role by itself.
 */
export async function startRole<O>(
  def: RoleDefinition<O>,
  options: O,
  ctx: {
    infra: InfraOptions;
    instance: string;
    logger: Logger;
    liveness?: Liveness;
    /** the factory to use (rebuild-gold's names its clients apart); by default a new one for this start */
    clients?: ClientFactory;
  },
): Promise<RunningRole> {
  const clients =
    ctx.clients ??
    createClientFactory({
      endpoints: ctx.infra,
      logger: ctx.logger,
      instance: ctx.instance,
      name: def.name,
    });
  let role: RunningRole;
  try {
    role = await def.start(
      { infra: ctx.infra, instance: ctx.instance, logger: ctx.logger, liveness: ctx.liveness, clients },
      options,
    );
  } catch (err) {
    await clients.closeAll(); // logs what did not close; the start error is what the caller sees
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    ...role,
    close() {
      closing ??= (async () => {
        try {
          await role.close();
        } finally {
          // even after a close that failed (the caller logs it): nothing of the role stays open
          await clients.closeAll();
        }
      })();
      return closing;
    },
  };
}

/**
 * startRole with the role's options read from `env` (and the instance name from
 * TRIBUTARY_INSTANCE_ID): how the benchmark and the tests start a role by itself.
 */
export function startRoleFromEnv<O>(
  def: RoleDefinition<O>,
  ctx: { infra: InfraOptions; env: NodeJS.ProcessEnv; logger: Logger; liveness?: Liveness },
): Promise<RunningRole> {
  return startRole(def, def.options(ctx.env), {
    infra: ctx.infra,
    instance: instanceId(ctx.env),
    logger: ctx.logger,
    liveness: ctx.liveness,
  });
}
