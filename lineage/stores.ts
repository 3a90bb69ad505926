import type { Collection } from 'mongodb';
import type pg from 'pg';
import { quoteQualified } from '../common/pg-names.ts';
import { ENRICHMENT_JOBS_TABLE, WORKSPACES_TABLE } from '../consumers/bronze/tables.ts';
import type { StoredRow } from './types.ts';

/**
 * The Postgres and MongoDB side of a trace: the bronze rows of a job and of its workspace (each a
 * version with its lineage columns), and what the gold stores hold for the job now. Every query is
 * an index lookup (bronze: `(id, updated_at)`, gold: the primary key), whatever the table size.
 */
export type Query = Pick<pg.Pool, 'query'>;

export interface BronzeVersion {
  id: string;
  workspaceId: string | null;
  updatedAt: Date;
  state: string;
  topic: string;
  partition: number;
  offset: string;
  kafkaTimestamp: Date | null;
  schemaId: number;
  source: string | null;
  requestId: string | null;
  fetchedAt: Date | null;
  ingestedAt: Date;
}

const LINEAGE = `topic, partition, "offset"::text AS offset, kafka_timestamp, schema_id, source,
  source_request_id, fetched_at, ingested_at`;

function bronzeVersion(r: Record<string, unknown>): BronzeVersion {
  return {
    id: r.id as string,
    workspaceId: (r.workspace_id as string | undefined) ?? null,
    updatedAt: r.updated_at as Date,
    state: r.state as string,
    topic: r.topic as string,
    partition: r.partition as number,
    offset: r.offset as string,
    kafkaTimestamp: (r.kafka_timestamp as Date | null) ?? null,
    schemaId: r.schema_id as number,
    source: (r.source as string | null) ?? null,
    requestId: (r.source_request_id as string | null) ?? null,
    fetchedAt: (r.fetched_at as Date | null) ?? null,
    ingestedAt: r.ingested_at as Date,
  };
}

/** Versions of a job as bronze stored them from `topic` (the pipeline's raw topic), oldest first. */
export async function bronzeJobVersions(db: Query, jobId: string, topic: string): Promise<BronzeVersion[]> {
  const { rows } = await db.query(
    `SELECT id::text AS id, workspace_id::text AS workspace_id, updated_at, status AS state, ${LINEAGE}
       FROM ${ENRICHMENT_JOBS_TABLE.table} WHERE id = $1::uuid AND topic = $2
      ORDER BY updated_at, partition, "offset"`,
    [jobId, topic],
  );
  return rows.map(bronzeVersion);
}

export async function bronzeWorkspaceVersions(
  db: Query,
  workspaceId: string,
  topic: string,
): Promise<BronzeVersion[]> {
  const { rows } = await db.query(
    `SELECT id::text AS id, updated_at, plan AS state, ${LINEAGE}
       FROM ${WORKSPACES_TABLE.table} WHERE id = $1::uuid AND topic = $2
      ORDER BY updated_at, partition, "offset"`,
    [workspaceId, topic],
  );
  return rows.map(bronzeVersion);
}

export interface GoldRow extends StoredRow {
  workspaceId: string;
  /** the job's created_at: nothing of the job can be on a topic before it */
  createdAt: string | null;
}

/** The gold row of the job (`table` is `schema.name` from configuration, escaped here). */
export async function postgresGoldRow(db: Query, table: string, jobId: string): Promise<GoldRow | null> {
  const quoted = quoteQualified(table);
  const { rows } = await db.query(
    `SELECT workspace_id::text AS workspace_id, status, source_partition, source_offset::text AS source_offset,
            written_at, job_updated_at, workspace_updated_at, created_at
       FROM ${quoted} WHERE job_id = $1::uuid`,
    [jobId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    workspaceId: r.workspace_id,
    createdAt: iso(r.created_at),
    status: r.status,
    partition: r.source_partition,
    offset: r.source_offset,
    writtenAt: iso(r.written_at),
    jobUpdatedAt: iso(r.job_updated_at)!,
    workspaceUpdatedAt: iso(r.workspace_updated_at),
  };
}

export async function mongoGoldDocument(
  collection: Collection<{ _id: string }>,
  jobId: string,
): Promise<GoldRow | null> {
  const d = (await collection.findOne(
    { _id: jobId },
    {
      projection: {
        workspace_id: 1,
        status: 1,
        source_partition: 1,
        source_offset: 1,
        written_at: 1,
        job_updated_at: 1,
        workspace_updated_at: 1,
        created_at: 1,
      },
    },
  )) as Record<string, unknown> | null;
  if (!d) return null;
  return {
    workspaceId: String(d.workspace_id),
    createdAt: iso(d.created_at),
    status: String(d.status),
    partition: Number(d.source_partition),
    offset: String(d.source_offset),
    writtenAt: iso(d.written_at),
    jobUpdatedAt: iso(d.job_updated_at)!,
    workspaceUpdatedAt: iso(d.workspace_updated_at),
  };
}

/** A Date, epoch ms or ISO text as ISO; null for null/undefined/invalid. */
export function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(typeof v === 'number' ? v : String(v));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
