/**
 * The lineage of one enrichment job, as `tributary trace` prints it and `GET /api/jobs/{id}/lineage`
 * answers it (gateway/schemas.ts declares the same shape as TypeBox; a type check there keeps the
 * two equal). Timestamps are ISO strings; `afterMs` is the time since the hop it follows.
 */
export type HopName = 'source' | 'raw' | 'bronze' | 'gold' | 'postgres' | 'mongo';

export interface Hop {
  hop: HopName;
  /** where: a request id, topic/partition@offset, a table or collection */
  where: string;
  at: string | null;
  /** the hop this one follows (bronze and gold both follow raw; the stores follow gold) */
  after: HopName | null;
  /** ms since `after`; null when either time is unknown */
  afterMs: number | null;
}

export interface GoldHop {
  topic: string;
  partition: number;
  offset: string;
  /** the gold record's Kafka timestamp */
  at: string | null;
  processedAt: string | null;
  /** the versions the record joined */
  jobUpdatedAt: string;
  workspaceUpdatedAt: string | null;
  status: string;
  /** which of the two versions made the processor emit this record */
  trigger: 'job' | 'workspace';
  /** set when this record is the one the store holds now */
  postgres: { table: string; writtenAt: string | null } | null;
  mongo: { collection: string; writtenAt: string | null } | null;
}

export interface VersionTrace {
  entity: 'job' | 'workspace';
  id: string;
  updatedAt: string;
  /** the job's status in this version (workspaces: their plan) */
  state: string;
  source: { api: string | null; requestId: string | null; fetchedAt: string | null };
  raw: { topic: string; partition: number; offset: string; at: string | null; schemaId: number };
  bronze: { table: string; ingestedAt: string };
  /** the gold records this version made the processor emit (found on the gold topic) */
  gold: GoldHop[];
  /** the chain from the source request to the stores, in order, with the time between hops */
  hops: Hop[];
}

export interface DeadLetterTrace {
  topic: string;
  partition: number;
  offset: string;
  at: string | null;
  entity: 'job' | 'workspace';
  reason: string | null;
  /** `<topic>/<partition>/<offset>` of the original record, when the writer recorded it */
  source: string | null;
  requestId: string | null;
  fetchedAt: string | null;
}

/** What was read from each Kafka topic, so a reader knows whether anything may be missing. */
export interface ScanReport {
  topic: string;
  partition: number;
  from: string;
  to: string;
  scanned: number;
  /** false when the bound stopped the scan before `to` */
  complete: boolean;
}

export interface StoredRow {
  partition: number;
  offset: string;
  writtenAt: string | null;
  jobUpdatedAt: string;
  workspaceUpdatedAt: string | null;
  status: string;
}

export interface JobLineage {
  jobId: string;
  workspaceId: string | null;
  tracedAt: string;
  jobVersions: VersionTrace[];
  workspaceVersions: VersionTrace[];
  /** gold records of the job on the gold topic that no version above explains (e.g. a replay) */
  otherGold: GoldHop[];
  stores: { postgres: StoredRow | null; mongo: StoredRow | null };
  deadLetters: DeadLetterTrace[];
  scans: ScanReport[];
  /** parts that could not be read (a store down, a timeout), each naming the part */
  problems: string[];
}
