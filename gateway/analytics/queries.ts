import type pg from 'pg';
import { quoteQualified } from '../../common/pg-names.ts';
import { isJobStatus, JOB_STATUSES } from '../../contracts/job-status.ts';
import type {
  Breakdown,
  BreakdownRow,
  Dimension,
  Durations,
  JobStatusName,
  JobsPage,
  Kpis,
  StatusCounts,
  SuccessRate,
  Throughput,
  WorkspaceSummary,
} from '../schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type Queryable, readOnly } from './db.ts';
import {
  type JobDbRow,
  type OutcomeRow,
  outcomes,
  toJobRow,
  toWorkspaceSummary,
  type WorkspaceRow,
} from './rows.ts';

/**
 * The business numbers, computed by Postgres from the gold table (one row per job, latest state).
 * Every method runs in one read-only transaction; `kpis()` runs all of its statements in the same
 * one, so its numbers describe one snapshot. Only the table name comes from configuration (quoted);
 * every value is a parameter.
 */
export interface Analytics {
  statusCounts(): Promise<StatusCounts>;
  successRate(): Promise<SuccessRate>;
  durations(filter?: { status?: JobStatusName }): Promise<Durations>;
  throughput(windowMinutes: number): Promise<Throughput>;
  breakdown(dimension: Dimension, limit: number): Promise<Breakdown>;
  workspaces(limit: number): Promise<WorkspaceSummary[]>;
  workspace(workspaceId: string): Promise<WorkspaceSummary | undefined>;
  recentJobs(query: RecentJobsFilter): Promise<JobsPage>;
  kpis(windowMinutes: number): Promise<Kpis>;
  ping(): Promise<void>;
}

export interface RecentJobsFilter {
  status?: JobStatusName;
  plan?: string;
  workspace?: string;
  limit: number;
  /** from a previous page; throws BadCursorError when malformed */
  cursor?: string;
}

const DIMENSION_COLUMNS: Record<Dimension, string> = {
  plan: 'workspace_plan',
  segment: 'workspace_segment',
  country: 'workspace_country',
};

// Outcome columns shared by the overall, per-dimension and per-workspace numbers.
// percentiles are rounded to the microsecond: percentile_cont's float arithmetic is not exact
const OUTCOMES = `
  count(*) FILTER (WHERE status = 'completed')::int AS completed,
  count(*) FILTER (WHERE status = 'failed')::int AS failed,
  count(*) FILTER (WHERE status = 'canceled')::int AS canceled,
  coalesce(sum(enriched_count) FILTER (WHERE status IN ('completed', 'failed')), 0)::float8 AS enriched,
  coalesce(sum(requested_count) FILTER (WHERE status IN ('completed', 'failed')), 0)::float8 AS requested`;

const JOB_COLUMNS = `job_id, workspace_id, workspace_name, workspace_plan, workspace_segment, workspace_country,
  kind, status, requested_count, enriched_count, failed_count, error_code, created_at, finished_at,
  duration_ms::float8 AS duration_ms`;

export function createAnalytics(deps: { pool: pg.Pool; table: string }): Analytics {
  const t = quoteQualified(deps.table);
  const tx = <T>(work: (c: Queryable) => Promise<T>) => readOnly(deps.pool, work);

  async function statusCounts(c: Queryable): Promise<StatusCounts> {
    const { rows } = await c.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${t} GROUP BY status`,
    );
    const counts = { ...Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])), total: 0 } as StatusCounts;
    for (const r of rows) {
      if (isJobStatus(r.status)) counts[r.status] = r.n;
      counts.total += r.n;
    }
    return counts;
  }

  async function successRate(c: Queryable): Promise<SuccessRate> {
    const { rows } = await c.query<OutcomeRow>(`SELECT ${OUTCOMES} FROM ${t}`);
    return outcomes(rows[0]!);
  }

  async function durations(c: Queryable, status?: JobStatusName): Promise<Durations> {
    const { rows } = await c.query<{ n: number; p50: number | null; p95: number | null }>(
      `SELECT count(*)::int AS n,
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 3)::float8 AS p50,
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 3)::float8 AS p95
         FROM ${t} WHERE duration_ms IS NOT NULL AND ($1::text IS NULL OR status = $1)`,
      [status ?? null],
    );
    const r = rows[0]!;
    return { count: r.n, p50Ms: r.p50, p95Ms: r.p95 };
  }

  async function throughput(c: Queryable, windowMinutes: number): Promise<Throughput> {
    // Minute buckets from (now - window + 1 min) up to the current, partial minute; now() is the
    // transaction's start, so the buckets and the counts agree.
    const { rows } = await c.query<{ minute: Date; finished: number }>(
      `WITH bounds AS (SELECT date_trunc('minute', now()) - make_interval(mins => $1::int - 1) AS start),
            series AS (SELECT generate_series((SELECT start FROM bounds), date_trunc('minute', now()),
                                              interval '1 minute') AS minute),
            done AS (SELECT date_trunc('minute', finished_at) AS minute, count(*)::int AS n
                       FROM ${t} WHERE finished_at >= (SELECT start FROM bounds) AND finished_at <= now()
                      GROUP BY 1)
       SELECT s.minute, coalesce(d.n, 0)::int AS finished
         FROM series s LEFT JOIN done d USING (minute) ORDER BY s.minute`,
      [windowMinutes],
    );
    const finished = rows.reduce((sum, r) => sum + r.finished, 0);
    return {
      windowMinutes,
      finished,
      perMinute: finished / windowMinutes,
      series: rows.map((r) => ({ minute: r.minute.toISOString(), finished: r.finished })),
    };
  }

  async function breakdown(c: Queryable, dimension: Dimension, limit: number): Promise<Breakdown> {
    const column = DIMENSION_COLUMNS[dimension];
    const { rows } = await c.query<OutcomeRow & { key: string | null; jobs: number }>(
      `SELECT ${column} AS key, count(*)::int AS jobs, ${OUTCOMES}
         FROM ${t} GROUP BY 1 ORDER BY jobs DESC, key ASC NULLS LAST LIMIT $1`,
      [limit],
    );
    const out: BreakdownRow[] = rows.map((r) => ({ key: r.key, jobs: r.jobs, ...outcomes(r) }));
    return { dimension, rows: out };
  }

  async function workspaceRows(c: Queryable, filter: { workspaceId?: string; limit: number }) {
    const { rows } = await c.query<WorkspaceRow>(
      `SELECT workspace_id,
              (array_agg(workspace_name ORDER BY workspace_updated_at DESC NULLS LAST))[1] AS name,
              (array_agg(workspace_plan ORDER BY workspace_updated_at DESC NULLS LAST))[1] AS plan,
              (array_agg(workspace_segment ORDER BY workspace_updated_at DESC NULLS LAST))[1] AS segment,
              (array_agg(workspace_country ORDER BY workspace_updated_at DESC NULLS LAST))[1] AS country,
              count(*)::int AS jobs,
              count(*) FILTER (WHERE status = 'queued')::int AS queued,
              count(*) FILTER (WHERE status = 'processing')::int AS processing,
              ${OUTCOMES},
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 3)::float8 AS p50,
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 3)::float8 AS p95,
              max(created_at) AS last_job_at
         FROM ${t} WHERE ($1::uuid IS NULL OR workspace_id = $1)
        GROUP BY workspace_id ORDER BY jobs DESC, workspace_id LIMIT $2`,
      [filter.workspaceId ?? null, filter.limit],
    );
    return rows.map(toWorkspaceSummary);
  }

  async function recentJobs(c: Queryable, q: RecentJobsFilter): Promise<JobsPage> {
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.status) where.push(`status = ${param(q.status)}`);
    if (q.plan) where.push(`workspace_plan = ${param(q.plan)}`);
    if (q.workspace) where.push(`workspace_id = ${param(q.workspace)}::uuid`);
    if (q.cursor) {
      const key = decodeCursor(q.cursor);
      const at = param(key.createdAt);
      const id = param(key.jobId);
      // keyset on (created_at DESC, job_id ASC): the rows strictly after the cursor's row
      where.push(
        `(created_at < ${at}::timestamptz OR (created_at = ${at}::timestamptz AND job_id > ${id}::uuid))`,
      );
    }
    const { rows } = await c.query<JobDbRow & { cursor_ts: string }>(
      `SELECT ${JOB_COLUMNS},
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_ts
         FROM ${t} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, job_id ASC LIMIT ${param(q.limit + 1)}`,
      params,
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      jobs: page.map(toJobRow),
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor({ createdAt: last.cursor_ts, jobId: last.job_id })
          : null,
    };
  }

  return {
    statusCounts: () => tx(statusCounts),
    successRate: () => tx(successRate),
    durations: (filter = {}) => tx((c) => durations(c, filter.status)),
    throughput: (windowMinutes) => tx((c) => throughput(c, windowMinutes)),
    breakdown: (dimension, limit) => tx((c) => breakdown(c, dimension, limit)),
    workspaces: (limit) => tx((c) => workspaceRows(c, { limit })),
    workspace: (workspaceId) => tx(async (c) => (await workspaceRows(c, { workspaceId, limit: 1 }))[0]),
    recentJobs: (query) => tx((c) => recentJobs(c, query)),
    kpis: (windowMinutes) =>
      tx(async (c) => {
        const { rows } = await c.query<{ now: Date }>('SELECT now() AS now');
        return {
          refreshedAt: rows[0]!.now.toISOString(),
          statusCounts: await statusCounts(c),
          successRate: await successRate(c),
          durations: await durations(c),
          throughput: await throughput(c, windowMinutes),
          byPlan: (await breakdown(c, 'plan', 20)).rows,
          bySegment: (await breakdown(c, 'segment', 20)).rows,
        };
      }),
    ping: () => tx(async (c) => void (await c.query('SELECT 1'))),
  };
}
