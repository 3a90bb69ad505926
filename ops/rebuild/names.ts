import { splitQualified } from '../../common/pg-names.ts';
import { dlqTopicOf } from '../../contracts/topology.ts';

/**
 * What `tributary rebuild-gold` rebuilds (the current gold) and where it builds the shadow. The
 * current gold's names are options so a test (or a second pipeline) can use its own; the shadow's
 * topics and groups carry a run id, so a new run never meets a half-deleted topic of an old one.
 */
export interface GoldTarget {
  rawTopics: { workspaces: string; jobs: string };
  goldTopic: string;
  /** schema-qualified Postgres table, e.g. gold.enrichment_jobs */
  table: string;
  mongo: { database: string; collection: string };
}

export interface ShadowNames {
  runId: string;
  goldTopic: string;
  /** the shadow processor's rule breakers */
  processorDlqTopic: string;
  /** the shadow sinks' undecodable gold (dlq.<shadow gold topic>, as the sinks name it) */
  sinkDlqTopic: string;
  stateTopic: string;
  processorGroup: string;
  processorInstance: string;
  postgresGroup: string;
  mongoGroup: string;
  /** the registry subject the shadow processor registers its gold schema under */
  subject: string;
  table: string;
  collection: string;
}

const MAX_IDENTIFIER = 63; // Postgres truncates longer identifiers silently

export function shadowNames(target: GoldTarget, runId: string): ShadowNames {
  const gold = `${target.goldTopic}.shadow-${runId}`;
  const table = `${target.table}_shadow`;
  if (splitQualified(table)[1].length > MAX_IDENTIFIER) {
    throw new Error(
      `table name ${target.table} is too long for a shadow table (at most ${MAX_IDENTIFIER - '_shadow'.length} characters after the schema)`,
    );
  }
  return {
    runId,
    goldTopic: gold,
    processorDlqTopic: `${gold}.dlq`,
    sinkDlqTopic: dlqTopicOf(gold),
    stateTopic: `${gold}.state`,
    processorGroup: `tributary.rebuild-gold.${runId}.processor`,
    processorInstance: `rebuild-${runId}`,
    postgresGroup: `tributary.rebuild-gold.${runId}.postgres`,
    mongoGroup: `tributary.rebuild-gold.${runId}.mongo`,
    subject: `${gold}-value`,
    table,
    collection: `${target.mongo.collection}_shadow`,
  };
}
