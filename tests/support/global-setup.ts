import type { TestProject } from 'vitest/node';
import { infraOptions } from '../../infra/options.ts';
import { down, reset, up } from '../../infra/runner.ts';
import { testInfraEnv } from './test-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    infraEnv: Record<string, string>;
  }
}

/** Starts a fresh infrastructure instance for the integration tests and stops it afterwards. */
export default async function setup(project: TestProject) {
  const env = testInfraEnv();
  const opts = infraOptions(env);
  const log = (l: string) => console.error(`[test-infra] ${l}`);
  await reset(opts, log); // a fresh instance: no state from an earlier run can make a test pass
  const rows = await up(opts, log);
  const unhealthy = rows.filter((r) => !r.healthy);
  if (unhealthy.length > 0) throw new Error(`test infrastructure not healthy: ${JSON.stringify(unhealthy)}`);
  project.provide('infraEnv', env);
  return () => down(opts, log);
}
