import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';

/**
 * The version of a gold record, and the one rule both sinks use to decide whether a record may
 * replace what is stored:
 *
 *   version = (job_updated_at, workspace_updated_at), compared lexicographically:
 *   first job_updated_at; when equal, workspace_updated_at, where null (workspace not resolved yet)
 *   is lower than any timestamp. A record replaces the stored one only when its version is strictly
 *   greater; an equal version is the same record again (a replay or redelivery) and changes nothing.
 *
 * The same rule is written in SQL (postgres-sink.ts) and as a MongoDB filter (mongo-sink.ts).
 */
export type GoldVersion = Pick<EnrichmentJobGold, 'job_updated_at' | 'workspace_updated_at'>;

/** < 0 when a is older than b, 0 when equal, > 0 when a is newer. */
export function compareVersions(a: GoldVersion, b: GoldVersion): number {
  if (a.job_updated_at !== b.job_updated_at) return a.job_updated_at - b.job_updated_at;
  const aw = a.workspace_updated_at ?? Number.NEGATIVE_INFINITY;
  const bw = b.workspace_updated_at ?? Number.NEGATIVE_INFINITY;
  return aw === bw ? 0 : aw < bw ? -1 : 1;
}

/** A gold record with where it was read on the gold topic. */
export interface GoldRecord {
  value: EnrichmentJobGold;
  partition: number;
  offset: string;
}

/**
 * The newest version of each job in a batch (one upsert per job: Postgres cannot update a row twice
 * in one INSERT … ON CONFLICT, and an unordered Mongo bulk does not order writes to one document).
 * On equal versions the later offset wins, as it would when written one by one.
 */
export function newestPerJob(records: readonly GoldRecord[]): GoldRecord[] {
  const newest = new Map<string, GoldRecord>();
  for (const r of records) {
    const seen = newest.get(r.value.job_id);
    if (!seen || compareVersions(r.value, seen.value) >= 0) newest.set(r.value.job_id, r);
  }
  return [...newest.values()];
}
