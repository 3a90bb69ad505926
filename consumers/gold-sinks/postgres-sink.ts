import type pg from 'pg';
import { quoteQualified } from '../../common/pg-names.ts';
import { type GoldRecord, latestPerJob, positionWinsSql } from './version.ts';

export interface GoldSink {
  /**
   * Stores each record that wins by the rule of version.ts against what is stored (several records
   * of one job: the latest on the topic); returns how many were stored.
   */
  write(records: readonly GoldRecord[]): Promise<number>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Column, Postgres array type, and value of each gold table column written by the sink. */
const COLUMNS: ReadonlyArray<readonly [string, string, (r: GoldRecord) => unknown]> = [
  ['job_id', 'uuid[]', (r) => r.value.job_id],
  ['workspace_id', 'uuid[]', (r) => r.value.workspace_id],
  ['kind', 'text[]', (r) => r.value.kind],
  ['status', 'text[]', (r) => r.value.status],
  ['requested_count', 'integer[]', (r) => r.value.requested_count],
  ['enriched_count', 'integer[]', (r) => r.value.enriched_count],
  ['failed_count', 'integer[]', (r) => r.value.failed_count],
  ['error_code', 'text[]', (r) => r.value.error_code],
  ['created_at', 'timestamptz[]', (r) => iso(r.value.created_at)],
  ['finished_at', 'timestamptz[]', (r) => iso(r.value.finished_at)],
  ['workspace_name', 'text[]', (r) => r.value.workspace_name],
  ['workspace_plan', 'text[]', (r) => r.value.workspace_plan],
  ['workspace_segment', 'text[]', (r) => r.value.workspace_segment],
  ['workspace_country', 'text[]', (r) => r.value.workspace_country],
  ['workspace_resolved', 'boolean[]', (r) => r.value.workspace_resolved],
  ['duration_ms', 'bigint[]', (r) => r.value.duration_ms],
  ['success_rate', 'double precision[]', (r) => r.value.success_rate],
  ['is_terminal', 'boolean[]', (r) => r.value.is_terminal],
  ['job_updated_at', 'timestamptz[]', (r) => iso(r.value.job_updated_at)],
  ['workspace_updated_at', 'timestamptz[]', (r) => iso(r.value.workspace_updated_at)],
  ['processed_at', 'timestamptz[]', (r) => iso(r.value.processed_at)],
  ['source_partition', 'integer[]', (r) => r.partition],
  ['source_offset', 'bigint[]', (r) => r.offset],
];

const names = COLUMNS.map(([c]) => c);
const updates = [...names.filter((c) => c !== 'job_id'), 'written_at']
  .map((c) => (c === 'written_at' ? 'written_at = now()' : `${c} = EXCLUDED.${c}`))
  .join(', ');

/**
 * One statement per batch: every column is sent as one array parameter and unnested into rows, so
 * a batch is a single round trip whatever its size. The WHERE of DO UPDATE is the rule of
 * version.ts (the later position on the gold topic wins). It is evaluated on the row as locked by
 * the upsert, so a writer that lost its partition but still writes (a zombie) cannot put an earlier
 * record over a later one. `target` is SQL-ready (escaped).
 */
function upsertSql(target: string): string {
  return `
INSERT INTO ${target} AS g (${names.join(', ')})
SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(', ')})
ON CONFLICT (job_id) DO UPDATE SET ${updates}
WHERE ${positionWinsSql('EXCLUDED', 'g')}`;
}

/**
 * `table` is 'schema.name' (the topology's gold table, or a rebuild's shadow or a test's copy of the
 * same shape); it is quoted, never interpolated raw.
 */
export function createPostgresGoldSink(deps: { pool: pg.Pool; table: string }): GoldSink {
  const sql = upsertSql(quoteQualified(deps.table));
  return {
    async write(records) {
      if (records.length === 0) return 0;
      const latest = latestPerJob(records);
      const params = COLUMNS.map(([, , value]) => latest.map(value));
      const res = await deps.pool.query(sql, params);
      return res.rowCount ?? 0;
    },
  };
}
