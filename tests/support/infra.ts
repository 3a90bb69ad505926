import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { type InfraOptions, infraOptions } from '../../runtime/endpoints.ts';

/** The test instance's endpoints, as provided by global-setup. */
export function testInfra(): InfraOptions {
  return infraOptions(inject('infraEnv'));
}

/** A unique name per test, so that tests never share a topic, group or table. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * The logger tests hand to the clients they build: silent, because tests kill servers and
 * consumers on purpose; TRIBUTARY_TEST_LOG_LEVEL=warn shows kafkajs' lines when debugging a test.
 */
export const testLogger = createLogger('test', process.env.TRIBUTARY_TEST_LOG_LEVEL ?? 'silent');
