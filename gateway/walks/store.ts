import pg from 'pg';
import { quoteQualified } from '../../common/pg-names.ts';
import { type Landed, type RawRange, rangeParams, type WalkStatus } from './reconcile.ts';

/**
 * The SQL of the reconciliation per walk: storing summaries and bronze's dead letters (idempotent:
 * a redelivered record changes nothing), and counting what landed for a walk's raw offsets. Bronze
 * and gold tables are read; only ops.walks and ops.dead_letter_sources are written.
 */
export interface StoredWalk {
  walkId: string;
  api: string;
  rawTopic: string;
  published: number;
  rawOffsets: RawRange[];
  endedAt: number;
  status: WalkStatus;
}

export interface DeadLetterSource {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  reason: string | null;
}

export interface SummaryRow {
  walkId: string;
  api: string;
  rawTopic: string;
  dlqTopic: string;
  outcome: string;
  startedAt: number;
  endedAt: number;
  startCursor: string | null;
  endHwm: { updatedAt: number; id: string } | null;
  pages: number;
  served: number;
  duplicates: number;
  published: number;
  deadLettered: number;
  rawOffsets: RawRange[];
  partition: number;
  offset: string;
}

export function createWalkStore(pool: pg.Pool, opts: { goldTable: string }) {
  const gold = quoteQualified(opts.goldTable);
  return {
    async insertSummary(s: SummaryRow): Promise<void> {
      await pool.query(
        `INSERT INTO ops.walks (walk_id, api, raw_topic, dlq_topic, outcome, started_at, ended_at, start_cursor,
           end_hwm_at, end_hwm_id, pages, served, duplicates, published, poller_dead_letters, raw_offsets,
           summary_partition, summary_offset)
         VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0), $8::timestamptz,
           to_timestamp($9 / 1000.0), $10, $11, $12, $13, $14, $15, $16::jsonb, $17, $18)
         ON CONFLICT (walk_id) DO NOTHING`,
        [
          s.walkId,
          s.api,
          s.rawTopic,
          s.dlqTopic,
          s.outcome,
          s.startedAt,
          s.endedAt,
          s.startCursor,
          s.endHwm?.updatedAt ?? null,
          s.endHwm?.id ?? null,
          s.pages,
          s.served,
          s.duplicates,
          s.published,
          s.deadLettered,
          JSON.stringify(s.rawOffsets),
          s.partition,
          s.offset,
        ],
      );
    },

    async insertDeadLetters(letters: readonly DeadLetterSource[]): Promise<void> {
      if (letters.length === 0) return;
      await pool.query(
        `INSERT INTO ops.dead_letter_sources
           (dlq_topic, dlq_partition, dlq_offset, source_topic, source_partition, source_offset, reason)
         SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::int[], $6::bigint[], $7::text[])
         ON CONFLICT DO NOTHING`,
        [
          letters.map((l) => l.dlqTopic),
          letters.map((l) => l.dlqPartition),
          letters.map((l) => l.dlqOffset),
          letters.map((l) => l.sourceTopic),
          letters.map((l) => l.sourcePartition),
          letters.map((l) => l.sourceOffset),
          letters.map((l) => l.reason),
        ],
      );
    },

    /** pending and unreconciled walks of these raw topics (an unreconciled one may still settle), oldest first */
    async unsettled(rawTopics: readonly string[], limit: number): Promise<StoredWalk[]> {
      const { rows } = await pool.query(
        `SELECT walk_id, api, raw_topic, published, raw_offsets, ended_at, status FROM ops.walks
          WHERE status <> 'reconciled' AND raw_topic = ANY($1) ORDER BY ended_at LIMIT $2`,
        [rawTopics, limit],
      );
      return rows.map(stored);
    },

    /** settled walks whose gold rows are still recounted (gold lags bronze) */
    async recent(rawTopics: readonly string[], sinceMs: number): Promise<StoredWalk[]> {
      const { rows } = await pool.query(
        `SELECT walk_id, api, raw_topic, published, raw_offsets, ended_at, status FROM ops.walks
          WHERE status = 'reconciled' AND raw_topic = ANY($1) AND ended_at >= to_timestamp($2 / 1000.0)
          ORDER BY ended_at DESC LIMIT 50`,
        [rawTopics, sinceMs],
      );
      return rows.map(stored);
    },

    /** rows of the walk's offsets in its bronze table, and bronze's dead letters for them */
    async landed(bronzeTable: string, w: StoredWalk): Promise<Landed> {
      if (w.rawOffsets.length === 0) return { inBronze: 0, bronzeDeadLetters: 0 };
      const [p, first, last] = rangeParams(w.rawOffsets);
      const { rows } = await pool.query(
        `WITH r AS (SELECT * FROM unnest($2::int[], $3::bigint[], $4::bigint[]) AS r(p, lo, hi))
         SELECT (SELECT count(*) FROM ${quoteQualified(bronzeTable)} b JOIN r
                   ON b.partition = r.p AND b."offset" BETWEEN r.lo AND r.hi WHERE b.topic = $1)::int AS in_bronze,
                (SELECT count(DISTINCT (d.source_partition, d.source_offset)) FROM ops.dead_letter_sources d JOIN r
                   ON d.source_partition = r.p AND d.source_offset BETWEEN r.lo AND r.hi
                  WHERE d.source_topic = $1)::int AS dead`,
        [w.rawTopic, p, first, last],
      );
      return { inBronze: rows[0].in_bronze, bronzeDeadLetters: rows[0].dead };
    },

    /** gold rows whose current version (job, or workspace) is one of the walk's bronze rows */
    async goldRows(bronzeTable: string, w: StoredWalk): Promise<number> {
      if (w.rawOffsets.length === 0) return 0;
      const [p, first, last] = rangeParams(w.rawOffsets);
      const jobs = bronzeTable === 'bronze.enrichment_jobs';
      const match = jobs
        ? 'g.job_id = v.id AND g.job_updated_at = v.updated_at'
        : 'g.workspace_id = v.id AND g.workspace_updated_at = v.updated_at';
      const { rows } = await pool.query(
        `WITH v AS (SELECT DISTINCT b.id, b.updated_at FROM ${quoteQualified(bronzeTable)} b
                      JOIN unnest($2::int[], $3::bigint[], $4::bigint[]) AS r(p, lo, hi)
                        ON b.partition = r.p AND b."offset" BETWEEN r.lo AND r.hi
                     WHERE b.topic = $1)
         SELECT count(*)::int AS n FROM ${gold} g JOIN v ON ${match}`,
        [w.rawTopic, p, first, last],
      );
      return rows[0].n;
    },

    async record(
      walkId: string,
      result: Landed & { status: WalkStatus; missing: number; goldRows: number },
    ): Promise<void> {
      await pool.query(
        `UPDATE ops.walks SET status = $2, in_bronze = $3, bronze_dead_letters = $4, missing = $5, gold_rows = $6,
                checked_at = now(), settled_at = CASE WHEN $2 = 'pending' THEN NULL ELSE coalesce(settled_at, now()) END
          WHERE walk_id = $1`,
        [walkId, result.status, result.inBronze, result.bronzeDeadLetters, result.missing, result.goldRows],
      );
    },

    async recordGold(walkId: string, goldRows: number): Promise<void> {
      await pool.query('UPDATE ops.walks SET gold_rows = $2 WHERE walk_id = $1', [walkId, goldRows]);
    },

    /** per api: unreconciled walks, pending walks and the age of the oldest pending one (s) */
    async health(
      rawTopics: readonly string[],
    ): Promise<Array<{ api: string; unreconciled: number; pending: number; oldestPendingSeconds: number }>> {
      const { rows } = await pool.query(
        `SELECT api, count(*) FILTER (WHERE status = 'unreconciled')::int AS unreconciled,
                count(*) FILTER (WHERE status = 'pending')::int AS pending,
                coalesce(extract(epoch FROM now() - min(ended_at) FILTER (WHERE status = 'pending')), 0)::float8 AS oldest
           FROM ops.walks WHERE raw_topic = ANY($1) AND status <> 'reconciled' GROUP BY api`,
        [rawTopics],
      );
      return rows.map((r) => ({
        api: r.api,
        unreconciled: r.unreconciled,
        pending: r.pending,
        oldestPendingSeconds: r.oldest,
      }));
    },
  };
}

export type WalkStore = ReturnType<typeof createWalkStore>;

function stored(r: Record<string, unknown>): StoredWalk {
  return {
    walkId: String(r.walk_id),
    api: String(r.api),
    rawTopic: String(r.raw_topic),
    published: Number(r.published),
    rawOffsets: r.raw_offsets as RawRange[],
    endedAt: (r.ended_at as Date).getTime(),
    status: r.status as WalkStatus,
  };
}

export function createWalksPool(url: string): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: 2,
    application_name: 'tributary-gateway-walks',
    options: '-c statement_timeout=30000',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
}
