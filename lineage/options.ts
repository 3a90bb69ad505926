import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { dlqTopics, readTopology } from '../contracts/topology.ts';

/**
 * Settings of a lineage trace (`tributary trace`, the gateway's /api/jobs/{id}/lineage): the
 * pipeline's topic and store names come from the topology (contracts/topology.ts), as the roles'
 * do, so a trace reads what the roles write; the bounds of the Kafka searches are its own.
 */
export const LineageEnv = Type.Object({
  TRIBUTARY_LINEAGE_GOLD_SCAN_LIMIT: Type.Integer({
    default: 200_000,
    minimum: 100,
    description:
      'the most gold-topic records a trace reads in the job partition from its first version on, e.g. 200000',
  }),
  TRIBUTARY_LINEAGE_DLQ_SCAN_LIMIT: Type.Integer({
    default: 50_000,
    minimum: 100,
    description:
      'the most records a trace reads per dead-letter partition from 10 minutes before the job first fetch, e.g. 50000',
  }),
  TRIBUTARY_LINEAGE_TIMEOUT_MS: Type.Integer({
    default: 30_000,
    minimum: 1000,
    maximum: 600_000,
    description: 'how long (ms) a trace may read Kafka before it fails naming what it was reading',
  }),
});

export interface LineageOptions {
  topics: {
    rawJobs: string;
    rawWorkspaces: string;
    gold: string;
    /** every dead-letter topic of the pipeline */
    dlqs: string[];
    /** the dead-letter topics of workspace records (their letters name a workspace, not a job) */
    workspaceDlqs: string[];
  };
  goldTable: string;
  mongo: { database: string; collection: string };
  goldScanLimit: number;
  dlqScanLimit: number;
  timeoutMs: number;
}

export function lineageOptions(env: NodeJS.ProcessEnv): LineageOptions {
  const e: Static<typeof LineageEnv> = readEnv(LineageEnv, env);
  const t = readTopology(env);
  return {
    topics: {
      rawJobs: t.topics.rawJobs,
      rawWorkspaces: t.topics.rawWorkspaces,
      gold: t.topics.gold,
      dlqs: dlqTopics(t),
      workspaceDlqs: [...new Set([t.topics.sourceDlqWorkspaces, t.topics.rawDlqWorkspaces])],
    },
    goldTable: t.gold.table,
    mongo: t.gold.mongo,
    goldScanLimit: e.TRIBUTARY_LINEAGE_GOLD_SCAN_LIMIT,
    dlqScanLimit: e.TRIBUTARY_LINEAGE_DLQ_SCAN_LIMIT,
    timeoutMs: e.TRIBUTARY_LINEAGE_TIMEOUT_MS,
  };
}
