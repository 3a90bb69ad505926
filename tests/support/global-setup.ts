import type { TestProject } from 'vitest/node';
import { down, reset, up } from '../../infra/runner.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import { testInfraEnv } from './test-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    infraEnv: Record<string, string>;
  }
}

/**
 * Starts a fresh infrastructure instance for the integration tests and stops it afterwards.
 *
 * TRIBUTARY_TEST_INFRA=reuse instead runs the tests against the instance your environment points
 * at (by default the `npm start` one), bringing it up if needed and leaving it running: a faster
 * loop while developing. Tests use random topic and group names, so they do not disturb it.
 */
export default async function setup(project: TestProject) {
  const reuse = process.env.TRIBUTARY_TEST_INFRA === 'reuse';
  const env = reuse ? definedOnly(process.env) : testInfraEnv();
  const opts = infraOptions(env);
  const log = (l: string) => console.error(`[test-infra] ${l}`);
  if (!reuse) await reset(opts, log); // fresh: no state from an earlier run can make a test pass
  const rows = await up(opts, log);
  const unhealthy = rows.filter((r) => !r.healthy);
  if (unhealthy.length > 0) throw new Error(`test infrastructure not healthy: ${JSON.stringify(unhealthy)}`);
  project.provide('infraEnv', env);
  return reuse ? undefined : () => down(opts, log);
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
