import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { type InfraOptions, infraOptions } from '../../infra/options.ts';

/** The test instance's endpoints, as provided by global-setup. */
export function testInfra(): InfraOptions {
  return infraOptions(inject('infraEnv'));
}

/** A unique name per test, so that tests never share a topic, group or table. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
