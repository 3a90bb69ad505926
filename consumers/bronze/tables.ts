import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import type { SchemaName } from '../../schemas/index.ts';
import { type CopyValue, isoTimestamp, isoTimestampOrNull, uuidText } from '../shared/copy-text.ts';

/**
 * How one raw topic maps to its bronze table (infra/migrations/2000_bronze.sql): the record's
 * fields as typed columns, in a fixed order shared by COPY and INSERT … SELECT. The lineage
 * columns that follow are the same for every table (see LINEAGE_COLUMNS).
 */
export interface BronzeTable<T> {
  /** the logical name used in TRIBUTARY_BRONZE_TOPICS */
  name: BronzeTopicName;
  /** schema-qualified, a constant of this file (never from configuration) */
  table: string;
  schema: SchemaName;
  recordColumns: readonly string[];
  /** the record's values in recordColumns order; throws InvalidRecordError for unstorable values */
  values(record: T): CopyValue[];
}

export const BRONZE_TOPIC_NAMES = ['workspaces', 'enrichment-jobs'] as const;
export type BronzeTopicName = (typeof BRONZE_TOPIC_NAMES)[number];

/** Written by the writer after the record's columns; ingested_at is the table default, now(). */
export const LINEAGE_COLUMNS = [
  'topic',
  'partition',
  'offset',
  'kafka_timestamp',
  'schema_id',
  'source',
  'source_request_id',
  'fetched_at',
] as const;

export const WORKSPACES_TABLE: BronzeTable<Workspace> = {
  name: 'workspaces',
  table: 'bronze.workspaces',
  schema: 'workspace',
  recordColumns: ['id', 'name', 'plan', 'segment', 'country', 'owner_email', 'created_at', 'updated_at'],
  values: (w) => [
    uuidText(w.id),
    w.name,
    w.plan,
    w.segment,
    w.country,
    w.owner_email,
    isoTimestamp(w.created_at),
    isoTimestamp(w.updated_at),
  ],
};

export const ENRICHMENT_JOBS_TABLE: BronzeTable<EnrichmentJob> = {
  name: 'enrichment-jobs',
  table: 'bronze.enrichment_jobs',
  schema: 'enrichment-job',
  recordColumns: [
    'id',
    'workspace_id',
    'kind',
    'status',
    'requested_count',
    'enriched_count',
    'failed_count',
    'error_code',
    'created_at',
    'updated_at',
    'finished_at',
  ],
  values: (j) => [
    uuidText(j.id),
    uuidText(j.workspace_id),
    j.kind,
    j.status,
    j.requested_count,
    j.enriched_count,
    j.failed_count,
    j.error_code,
    isoTimestamp(j.created_at),
    isoTimestamp(j.updated_at),
    isoTimestampOrNull(j.finished_at),
  ],
};

/**
 * The tables by topic name. Their record type is erased here, in one place: each table is only ever
 * fed by a decoder built from its own `schema`, so the values it receives have its record's shape.
 */
export const BRONZE_TABLES: Record<BronzeTopicName, BronzeTable<unknown>> = {
  workspaces: WORKSPACES_TABLE as BronzeTable<never> as BronzeTable<unknown>,
  'enrichment-jobs': ENRICHMENT_JOBS_TABLE as BronzeTable<never> as BronzeTable<unknown>,
};
