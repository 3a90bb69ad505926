import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { quoteQualified } from '../common/pg-names.ts';
import { isTerminalJobStatus, type JobStatus } from '../contracts/job-status.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { gatewayOptions } from './options.ts';

/**
 * Test support for the gateway and dashboard integration tests (tests/integration/gateway-*,
 * dashboard-*): a private copy of the gold table with known rows, and a gateway on port 0 pointed
 * at it. Not used by the running pipeline.
 */
export interface GoldRow {
  jobId?: string;
  workspaceId: string;
  workspaceName?: string | null;
  plan: string | null;
  segment: string | null;
  country: string | null;
  status: JobStatus;
  requested: number;
  enriched: number;
  failed?: number;
  /** a Date, or an ISO string (microseconds allowed) */
  createdAt: Date | string;
  finishedAt?: Date | null;
}

/** `gold.<random>` with the real table's columns, indexes and defaults. */
export async function createGoldCopy(pool: pg.Pool): Promise<{ table: string; drop(): Promise<void> }> {
  const table = `gold.test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await pool.query(`CREATE TABLE ${quoteQualified(table)} (LIKE gold.enrichment_jobs INCLUDING ALL)`);
  return {
    table,
    drop: async () => void (await pool.query(`DROP TABLE IF EXISTS ${quoteQualified(table)}`)),
  };
}

export async function insertGoldRows(pool: pg.Pool, table: string, rows: GoldRow[]): Promise<string[]> {
  const ids: string[] = [];
  let offset = 0;
  for (const r of rows) {
    const jobId = r.jobId ?? randomUUID();
    ids.push(jobId);
    const finished = r.finishedAt ?? null;
    const terminal = isTerminalJobStatus(r.status);
    const resolved = r.plan !== null;
    await pool.query(
      `INSERT INTO ${quoteQualified(table)} (job_id, workspace_id, kind, status, requested_count, enriched_count,
         failed_count, error_code, created_at, finished_at, workspace_name, workspace_plan, workspace_segment,
         workspace_country, workspace_resolved, duration_ms, success_rate, is_terminal, job_updated_at,
         workspace_updated_at, processed_at, source_partition, source_offset)
       VALUES ($1, $2, 'company', $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10, $11, $12, $13, $14,
         CASE WHEN $9::timestamptz IS NULL THEN NULL
              ELSE (extract(epoch FROM $9::timestamptz - $8::timestamptz) * 1000)::bigint END,
         $15, $16, coalesce($9::timestamptz, $8::timestamptz), CASE WHEN $14 THEN $8::timestamptz END, now(), 0, $17)`,
      [
        jobId,
        r.workspaceId,
        r.status,
        r.requested,
        r.enriched,
        r.failed ?? 0,
        r.status === 'failed' ? 'provider_down' : null,
        r.createdAt instanceof Date ? r.createdAt.toISOString() : r.createdAt,
        finished?.toISOString() ?? null,
        resolved ? (r.workspaceName ?? `Workspace ${r.workspaceId.slice(0, 4)}`) : null,
        r.plan,
        r.segment,
        r.country,
        resolved,
        r.requested > 0 ? r.enriched / r.requested : null,
        terminal,
        offset++,
      ],
    );
  }
  return ids;
}

/**
 * The topology settings of a gateway test that watches one raw topic and one dead-letter topic of
 * its own: both raw settings name `raw`, and the pollers' and the processor's dead letters go to
 * `dlq`. The gateway also lists the consumers' dlq.<raw> and dlq.<gold> (contracts/topology.ts),
 * which the test does not create: they count 0 letters.
 */
export function testTopologyEnv(t: { raw: string; gold: string; dlq: string; metrics: string }) {
  return {
    TRIBUTARY_RAW_WORKSPACES_TOPIC: t.raw,
    TRIBUTARY_RAW_JOBS_TOPIC: t.raw,
    TRIBUTARY_GOLD_TOPIC: t.gold,
    TRIBUTARY_DLQ_WORKSPACES_TOPIC: t.dlq,
    TRIBUTARY_DLQ_JOBS_TOPIC: t.dlq,
    TRIBUTARY_GOLD_DLQ_TOPIC: t.dlq,
    TRIBUTARY_METRICS_TOPIC: t.metrics,
  };
}

/** A gateway on 127.0.0.1:0 with the given settings (TRIBUTARY_GATEWAY_* names), logging only errors. */
export async function startTestGateway(infra: InfraOptions, env: Record<string, string>): Promise<Gateway> {
  const options = gatewayOptions({ TRIBUTARY_GATEWAY_PORT: '0', ...env });
  return startGateway({
    options,
    infra,
    logger: pino({ level: process.env.TRIBUTARY_TEST_LOG_LEVEL ?? 'error' }),
  });
}

/** A Postgres pool for fixtures (read-write), closed by the caller. */
export function fixturePool(infra: InfraOptions): pg.Pool {
  return new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
}
