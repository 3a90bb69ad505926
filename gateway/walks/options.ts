import { Type } from 'typebox';
import { readEnv } from '../../common/env.ts';
import type { ApiName } from '../../producers/apis.ts';

/**
 * Settings of the reconciliation per walk (gateway/walks/). The topic and group names are the ones
 * the pollers and bronze read (same variables), so one environment configures all three.
 */
export const WalksEnv = Type.Object({
  TRIBUTARY_WALKS_TOPIC: Type.String({
    default: '_tributary.walks',
    minLength: 1,
    description: 'the topic of the walk summaries the pollers commit',
  }),
  TRIBUTARY_WALKS_GROUP: Type.String({
    default: 'tributary.gateway.walks',
    minLength: 1,
    description: 'the consumer group that stores walk summaries and bronze dead letters in ops.walks',
  }),
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
  TRIBUTARY_RAW_WORKSPACES_TOPIC: Type.String({
    default: 'raw.workspaces',
    minLength: 1,
    description: 'the raw workspaces topic',
  }),
  TRIBUTARY_RAW_JOBS_TOPIC: Type.String({
    default: 'raw.enrichment-jobs',
    minLength: 1,
    description: 'the raw jobs topic',
  }),
  TRIBUTARY_DLQ_WORKSPACES_TOPIC: Type.String({
    default: 'dlq.raw.workspaces',
    minLength: 1,
    description: 'the workspaces dead-letter topic',
  }),
  TRIBUTARY_DLQ_JOBS_TOPIC: Type.String({
    default: 'dlq.raw.enrichment-jobs',
    minLength: 1,
    description: 'the enrichment-jobs dead-letter topic',
  }),
  TRIBUTARY_BRONZE_WORKSPACES_GROUP: Type.String({
    default: 'tributary.bronze.workspaces',
    minLength: 1,
    description: 'the consumer group of the workspaces bronze writer',
  }),
  TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: Type.String({
    default: 'tributary.bronze.enrichment-jobs',
    minLength: 1,
    description: 'the consumer group of the enrichment-jobs bronze writer',
  }),
});

export interface WalksApi {
  api: ApiName;
  rawTopic: string;
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
  const apis: Record<ApiName, WalksApi> = {
    workspaces: {
      api: 'workspaces',
      rawTopic: e.TRIBUTARY_RAW_WORKSPACES_TOPIC,
      dlqTopic: e.TRIBUTARY_DLQ_WORKSPACES_TOPIC,
      bronzeGroup: e.TRIBUTARY_BRONZE_WORKSPACES_GROUP,
      bronzeTable: 'bronze.workspaces',
    },
    'enrichment-jobs': {
      api: 'enrichment-jobs',
      rawTopic: e.TRIBUTARY_RAW_JOBS_TOPIC,
      dlqTopic: e.TRIBUTARY_DLQ_JOBS_TOPIC,
      bronzeGroup: e.TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP,
      bronzeTable: 'bronze.enrichment_jobs',
    },
  };
  return {
    topic: e.TRIBUTARY_WALKS_TOPIC,
    groupId: e.TRIBUTARY_WALKS_GROUP,
    reconcileMs: e.TRIBUTARY_WALKS_RECONCILE_MS,
    goldRecountMs: e.TRIBUTARY_WALKS_GOLD_RECOUNT_MINUTES * 60_000,
    postgresUrl: e.TRIBUTARY_WALKS_POSTGRES_URL,
    apis,
  };
}
