import type { Liveness } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import type { ClientFactory } from './clients.ts';
import type { InfraOptions } from './endpoints.ts';

/**
 * What a role is given when it starts. Everything it connects to comes from `clients`, which the
 * runtime closes after the role's own `close()`; its settings come as the options argument of
 * `start`, read once from the environment by the runtime (`RoleDefinition.options`).
 */
export interface RoleContext {
  /** where the servers are (runtime/endpoints.ts) */
  infra: InfraOptions;
  /** this process's name (common/instance.ts) */
  instance: string;
  logger: Logger;
  /**
   * Where the role's loops report their progress (common/liveness.ts); the process turns it into
   * /readyz, a metric and the self-restart. Absent when a test starts a role by itself.
   */
  liveness?: Liveness;
  /** opens the role's clients and closes them once, after the role's close() (runtime/clients.ts) */
  clients: ClientFactory;
}

export interface RunningRole {
  /** a line for the start banner, e.g. the URL it serves */
  summary?: string;
  /** served at the process's /metrics */
  metrics?: RoleMetrics[];
  /**
   * Finishes the work in flight and commits; called once. The clients of `ctx.clients` are closed
   * by the runtime afterwards; a role closes only what it built itself (its consumers, servers).
   */
  close(): Promise<void>;
}

/**
 * A long-running part of the pipeline. `tributary start` runs several in one process; running one
 * role per process is how the pipeline scales. `options` reads and validates the role's settings
 * (its options.ts) once, before anything connects, so a bad setting stops the process naming the
 * variable; `start` gets them as they are, which lets rebuild-gold start a role with other names.
 */
export interface RoleDefinition<O = unknown> {
  name: string;
  description: string;
  options(env: NodeJS.ProcessEnv): O;
  start(ctx: RoleContext, options: O): Promise<RunningRole>;
}
