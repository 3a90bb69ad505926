import type { Liveness } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import type { RoleMetrics } from '../common/metrics.ts';
import type { InfraOptions } from './endpoints.ts';

/**
 * A long-running part of the pipeline. `tributary start` runs several in one process; running one
 * role per process is how the pipeline scales.
 */
export interface RoleContext {
  infra: InfraOptions;
  /** the process environment, read once by each role's options.ts */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /**
   * Where the role's loops report their progress (common/liveness.ts); the process turns it into
   * /readyz, a metric and the self-restart. Absent when a test starts a role by itself.
   */
  liveness?: Liveness;
}

export interface RunningRole {
  /** a line for the start banner, e.g. the URL it serves */
  summary?: string;
  /** served at the process's /metrics */
  metrics?: RoleMetrics[];
  /** finishes the work in flight, commits, and closes every client; called once */
  close(): Promise<void>;
}

export interface RoleDefinition {
  name: string;
  description: string;
  start(ctx: RoleContext): Promise<RunningRole>;
}
