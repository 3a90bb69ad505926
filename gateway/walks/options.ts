import { Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import { readTopology } from '../../contracts/topology.ts';
import type { ApiName } from '../../producers/apis.ts';

/**
 * Settings of the reconciliation per walk (gateway/walks/). The topic and group names are the
 * topology's (contracts/topology.ts), the ones the pollers and bronze use.
 */
export const WalksEnv = Type.Object({
  TRIBUTARY_WALKS_RECONCILE_MS: Type.Integer({
    minimum: 200,
    maximum: 600_000,
    default: 5000,
    description: 'how often pending walks are counted against bronze, in ms (200-600000)',
  }),
  TRIBUTARY_WALKS_GOLD_RECOUNT_MINUTES: Type.Integer({
    minimum: 0,
    maximum: 1440,
    default: 10,
    description: 'how long after a walk its gold rows are still recounted (gold lags bronze), in minutes',
  }),
  TRIBUTARY_WALKS_POSTGRES_URL: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'a postgres:// URL of a role that may write ops.walks (default: the pipeline database URL)',
    }),
  ),
});

export interface WalksApi {
  api: ApiName;
  rawTopic: string;
  /** bronze's dead-letter topic of the raw topic: its letters are counted per walk */
  dlqTopic: string;
  bronzeGroup: string;
  /** a constant of consumers/bronze/tables.ts, never from configuration */
  bronzeTable: 'bronze.workspaces' | 'bronze.enrichment_jobs';
}

export interface WalksOptions {
  topic: string;
  groupId: string;
  reconcileMs: number;
  goldRecountMs: number;
  postgresUrl?: string;
  apis: Record<ApiName, WalksApi>;
}

export function walksOptions(env: NodeJS.ProcessEnv = process.env): WalksOptions {
  const e = readEnv(WalksEnv, env);
  const t = readTopology(env);
  const apis: Record<ApiName, WalksApi> = {
    workspaces: {
      api: 'workspaces',
      rawTopic: t.topics.rawWorkspaces,
      dlqTopic: t.topics.rawDlqWorkspaces,
      bronzeGroup: t.groups.bronzeWorkspaces,
      bronzeTable: 'bronze.workspaces',
    },
    'enrichment-jobs': {
      api: 'enrichment-jobs',
      rawTopic: t.topics.rawJobs,
      dlqTopic: t.topics.rawDlqJobs,
      bronzeGroup: t.groups.bronzeJobs,
      bronzeTable: 'bronze.enrichment_jobs',
    },
  };
  return {
    topic: t.topics.walks,
    groupId: t.groups.walks,
    reconcileMs: e.TRIBUTARY_WALKS_RECONCILE_MS,
    goldRecountMs: e.TRIBUTARY_WALKS_GOLD_RECOUNT_MINUTES * 60_000,
    postgresUrl: e.TRIBUTARY_WALKS_POSTGRES_URL,
    apis,
  };
}
