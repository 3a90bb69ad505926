import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { BRONZE_TABLES } from '../consumers/bronze/tables.ts';
import { dlqTopics, readTopology } from '../contracts/topology.ts';

/**
 * Settings of the operator commands (status, tail, replay, rebuild-gold, dlq, reset). The pipeline's
 * topic, group and store names are not repeated here: they are the topology's
 * (contracts/topology.ts), read from the same environment as the roles', so an operator command
 * always acts on what the roles use.
 */
export const OpsEnv = Type.Object({
  TRIBUTARY_OPS_GROUP_PREFIX: Type.String({
    default: 'tributary.',
    minLength: 1,
    description: 'the prefix of the consumer groups the pipeline owns, e.g. tributary.',
  }),
});

export interface OpsOptions {
  groupPrefix: string;
  topics: {
    rawWorkspaces: string;
    rawJobs: string;
    gold: string;
    /** where the processor sends rule breakers (by default also the gold sinks' dlq.<gold>) */
    goldDlq: string;
    processorState: string;
    pollerState: string;
    metrics: string;
    /** the pollers' walk summaries (reconciliation per walk) */
    walks: string;
    /** the pollers' dead-letter topics (API entries, JSON) */
    pollerDlqs: { workspaces: string; jobs: string };
    /** bronze's dead-letter topics (raw records, Avro) */
    bronzeDlqs: { workspaces: string; jobs: string };
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
  const t = readTopology(env);
  return {
    groupPrefix: e.TRIBUTARY_OPS_GROUP_PREFIX,
    topics: {
      rawWorkspaces: t.topics.rawWorkspaces,
      rawJobs: t.topics.rawJobs,
      gold: t.topics.gold,
      goldDlq: t.topics.goldDlq,
      processorState: t.topics.processorState,
      pollerState: t.topics.pollerState,
      walks: t.topics.walks,
      metrics: t.topics.metrics,
      pollerDlqs: { workspaces: t.topics.sourceDlqWorkspaces, jobs: t.topics.sourceDlqJobs },
      bronzeDlqs: { workspaces: t.topics.rawDlqWorkspaces, jobs: t.topics.rawDlqJobs },
      dlqs: dlqTopics(t),
    },
    groups: {
      processor: t.groups.processor,
      bronzeWorkspaces: t.groups.bronzeWorkspaces,
      bronzeJobs: t.groups.bronzeJobs,
      goldPostgres: t.groups.goldPostgres,
      goldMongo: t.groups.goldMongo,
    },
    gold: t.gold,
    bronzeTables: Object.values(BRONZE_TABLES).map((b) => b.table),
  };
}
