import { bronzeRole } from '../consumers/bronze/role.ts';
import { goldMongoRole, goldPostgresRole } from '../consumers/gold-sinks/role.ts';
import { processorRole } from '../consumers/processor/role.ts';
import { gatewayRole } from '../gateway/role.ts';
import { mockSourceRole } from '../mock-source/role.ts';
import { pollersRole } from '../producers/role.ts';
import type { RoleDefinition } from '../runtime/role.ts';

/**
 * Every pipeline role, in start order: the source first, then producers, then consumers, so that
 * what a role reads exists before it starts. (Kept apart from runtime/role.ts, which the roles import.)
 */
export const ROLES: RoleDefinition[] = [
  mockSourceRole,
  pollersRole,
  bronzeRole,
  processorRole,
  goldPostgresRole,
  goldMongoRole,
  gatewayRole,
];
