import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { bronzeOptions } from '../consumers/bronze/options.ts';
import { BRONZE_TABLES } from '../consumers/bronze/tables.ts';
import { goldSinksOptions } from '../consumers/gold-sinks/options.ts';
import { processorOptions } from '../consumers/processor/options.ts';
import { dlqTopicOf } from '../consumers/shared/options.ts';
import { pollersOptions } from '../producers/options.ts';

/**
 * Settings of the operator commands (status, tail, replay, rebuild-gold, dlq, reset). The pipeline's
 * topic, group and store names are not repeated here: they are read through the options.ts of each
 * role from the same environment, so an operator command always acts on what the roles use.
 */
export const OpsEnv = Type.Object({
  TRIBUTARY_OPS_GROUP_PREFIX: Type.String({
    default: 'tributary.',
    minLength: 1,
    description: 'the prefix of the consumer groups the pipeline owns, e.g. tributary.',
  }),
  TRIBUTARY_OPS_GOLD_TABLE: Type.String({
    default: 'gold.enrichment_jobs',
    pattern: '^[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*$',
    description: 'the schema-qualified Postgres gold table, e.g. gold.enrichment_jobs',
  }),
});

export interface OpsOptions {
  groupPrefix: string;
  topics: {
    rawWorkspaces: string;
    rawJobs: string;
    gold: string;
    /** where the processor sends rule breakers (and the gold sinks undecodable gold) */
    goldDlq: string;
    processorState: string;
    pollerState: string;
    metrics: string;
    /** the pollers' walk summaries (reconciliation per walk) */
    walks: string;
    /** the pollers' dead-letter topics */
    pollerDlqs: { workspaces: string; jobs: string };
    /** every dead-letter topic the pipeline writes */
    dlqs: string[];
  };
  groups: {
    processor: string;
    bronzeWorkspaces: string;
    bronzeJobs: string;
    goldPostgres: string;
    goldMongo: string;
  };
  gold: { table: string; mongo: { database: string; collection: string } };
  /** bronze tables, as written by consumers/bronze/tables.ts */
  bronzeTables: string[];
}

export function opsOptions(env: NodeJS.ProcessEnv): OpsOptions {
  const e: Static<typeof OpsEnv> = readEnv(OpsEnv, env);
  const processor = processorOptions(env);
  const sinks = goldSinksOptions(env);
  const pollers = pollersOptions(env);
  // Every bronze writer, whatever subset this machine runs.
  const bronze = bronzeOptions({ ...env, TRIBUTARY_BRONZE_TOPICS: undefined });
  const bronzeGroup = (name: string) => bronze.topics.find((t) => t.name === name)?.groupId ?? '';
  const dlqs = new Set([
    pollers.topics.workspaces.dlq,
    pollers.topics['enrichment-jobs'].dlq,
    ...bronze.topics.map((t) => t.dlqTopic),
    processor.topics.dlq,
    dlqTopicOf(sinks.topic),
  ]);
  return {
    groupPrefix: e.TRIBUTARY_OPS_GROUP_PREFIX,
    topics: {
      rawWorkspaces: processor.topics.workspaces,
      rawJobs: processor.topics.jobs,
      gold: processor.topics.gold,
      goldDlq: processor.topics.dlq,
      processorState: processor.topics.state,
      pollerState: pollers.topics.state,
      walks: pollers.topics.walks,
      metrics: processor.topics.metrics,
      pollerDlqs: { workspaces: pollers.topics.workspaces.dlq, jobs: pollers.topics['enrichment-jobs'].dlq },
      dlqs: [...dlqs].sort(),
    },
    groups: {
      processor: processor.groupId,
      bronzeWorkspaces: bronzeGroup('workspaces'),
      bronzeJobs: bronzeGroup('enrichment-jobs'),
      goldPostgres: sinks.groupIds.postgres,
      goldMongo: sinks.groupIds.mongo,
    },
    gold: { table: e.TRIBUTARY_OPS_GOLD_TABLE, mongo: sinks.mongo },
    bronzeTables: Object.values(BRONZE_TABLES).map((t) => t.table),
  };
}
