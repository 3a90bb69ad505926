import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';

/**
 * The one rule every gold sink uses to decide whether a record may replace what is stored: the
 * record's POSITION on the gold topic, not the timestamps it carries.
 *
 *   position = (source_partition, source_offset), compared left to right.
 *   A record replaces the stored one only when its position is strictly greater. An equal position
 *   is the same record again (a redelivery or a replay) and changes nothing.
 *   A stored offset below 0 (UNKNOWN_OFFSET) means "position unknown": any record replaces it.
 *
 * Why the position: the gold topic is the truth the sinks copy, and its latest record per key is
 * what compaction keeps and what every other consumer sees last. A key always lives on one
 * partition (the partition count is fixed; changing it needs `tributary reset`), and there the
 * greater offset is the later record, so every store ends equal to the topic's latest record per
 * key, whatever the order or the number of times it reads them, and every store decides the same
 * way. Timestamps cannot promise that: when a source's versions go backward (a restored backup, a
 * re-seeded world, a rebuild that corrects a record), a later record can carry an older
 * (job_updated_at, workspace_updated_at), and a timestamp guard would keep the record the topic no
 * longer says.
 *
 * Positions are only comparable within one gold topic. `tributary reset` empties the stores with
 * the groups (and, with --topics, recreates the topic), so a recreated topic starts on empty stores;
 * `tributary rebuild-gold` swaps in stores written from a shadow topic and marks their positions
 * unknown (ops/rebuild/swap.ts), so the first record of the real topic replaces each of them.
 *
 * This file is the rule, once: `comparePositions` for the sinks that decide in this process
 * (MongoDB), `positionWinsSql` for the sink that decides in its database (Postgres).
 */
export interface GoldPosition {
  partition: number;
  offset: number;
}

export const UNKNOWN_OFFSET = -1;

/** < 0 when a is earlier on the gold topic than b, 0 when it is the same position, > 0 when later. */
export function comparePositions(a: GoldPosition, b: GoldPosition): number {
  const aKnown = a.offset >= 0;
  const bKnown = b.offset >= 0;
  if (!aKnown || !bKnown) return aKnown === bKnown ? 0 : aKnown ? 1 : -1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return a.offset - b.offset;
}

/** Whether a record at `position` replaces what is stored (`undefined`: nothing stored). */
export function replaces(position: GoldPosition, stored: GoldPosition | undefined): boolean {
  return stored === undefined || comparePositions(position, stored) > 0;
}

/**
 * The rule as a Postgres boolean expression over two row aliases that both have source_partition
 * and source_offset (e.g. `EXCLUDED` and the target's alias in INSERT … ON CONFLICT … WHERE): true
 * when `record` replaces `stored`. Row comparison in Postgres is lexicographic, as above.
 */
export function positionWinsSql(record: string, stored: string): string {
  return `(${stored}.source_offset < 0 OR (${record}.source_partition, ${record}.source_offset) > (${stored}.source_partition, ${stored}.source_offset))`;
}

/** A gold record with where it was read on the gold topic. */
export interface GoldRecord {
  value: EnrichmentJobGold;
  partition: number;
  offset: string;
}

export const positionOf = (r: GoldRecord): GoldPosition => ({
  partition: r.partition,
  offset: Number(r.offset),
});

/**
 * The record of each job that wins by the rule, i.e. the last one on the topic (one write per job:
 * Postgres cannot update a row twice in one INSERT … ON CONFLICT, and an unordered MongoDB bulk does
 * not order writes to one document). Keeps the first-seen order of the jobs.
 */
export function latestPerJob(records: readonly GoldRecord[]): GoldRecord[] {
  const latest = new Map<string, GoldRecord>();
  for (const r of records) {
    const seen = latest.get(r.value.job_id);
    if (!seen || replaces(positionOf(r), positionOf(seen))) latest.set(r.value.job_id, r);
  }
  return [...latest.values()];
}
