import type { SchemaName } from '../schemas/index.ts';

/**
 * The two source APIs the pollers read. Each is a change feed of record versions; what differs is
 * the path, the Avro schema and which field keys the Kafka record.
 */
export const API_NAMES = ['workspaces', 'enrichment-jobs'] as const;
export type ApiName = (typeof API_NAMES)[number];

export interface ApiSpec {
  name: ApiName;
  path: string;
  schema: SchemaName;
  /**
   * The field whose value is the Kafka key of a valid record: jobs are keyed by their workspace so
   * that raw.enrichment-jobs is co-partitioned with raw.workspaces.
   */
  keyField: 'id' | 'workspace_id';
}

export const APIS: Record<ApiName, ApiSpec> = {
  workspaces: { name: 'workspaces', path: '/v1/workspaces', schema: 'workspace', keyField: 'id' },
  'enrichment-jobs': {
    name: 'enrichment-jobs',
    path: '/v1/enrichment-jobs',
    schema: 'enrichment-job',
    keyField: 'workspace_id',
  },
};

export function isApiName(value: string): value is ApiName {
  return (API_NAMES as readonly string[]).includes(value);
}
