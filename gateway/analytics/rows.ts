import type { JobRow, SuccessRate, WorkspaceSummary } from '../schemas.ts';

/** Database rows of the analytics queries and their API shapes (camelCase, ISO timestamps). */
export interface OutcomeRow {
  completed: number;
  failed: number;
  canceled: number;
  enriched: number;
  requested: number;
}

export function outcomes(r: OutcomeRow): SuccessRate {
  const decided = r.completed + r.failed;
  return {
    completed: r.completed,
    failed: r.failed,
    canceled: r.canceled,
    jobSuccessRate: decided > 0 ? r.completed / decided : null,
    recordSuccessRate: r.requested > 0 ? r.enriched / r.requested : null,
  };
}

export interface WorkspaceRow extends OutcomeRow {
  workspace_id: string;
  name: string | null;
  plan: string | null;
  segment: string | null;
  country: string | null;
  jobs: number;
  queued: number;
  processing: number;
  p50: number | null;
  p95: number | null;
  last_job_at: Date;
}

export function toWorkspaceSummary(r: WorkspaceRow): WorkspaceSummary {
  const o = outcomes(r);
  return {
    workspaceId: r.workspace_id,
    name: r.name,
    plan: r.plan,
    segment: r.segment,
    country: r.country,
    jobs: r.jobs,
    statusCounts: {
      queued: r.queued,
      processing: r.processing,
      completed: r.completed,
      failed: r.failed,
      canceled: r.canceled,
      total: r.jobs,
    },
    jobSuccessRate: o.jobSuccessRate,
    recordSuccessRate: o.recordSuccessRate,
    p50Ms: r.p50,
    p95Ms: r.p95,
    lastJobAt: r.last_job_at.toISOString(),
  };
}

export interface JobDbRow {
  job_id: string;
  workspace_id: string;
  workspace_name: string | null;
  workspace_plan: string | null;
  workspace_segment: string | null;
  workspace_country: string | null;
  kind: string;
  status: string;
  requested_count: number;
  enriched_count: number;
  failed_count: number;
  error_code: string | null;
  created_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
}

export function toJobRow(r: JobDbRow): JobRow {
  return {
    jobId: r.job_id,
    workspaceId: r.workspace_id,
    workspaceName: r.workspace_name,
    plan: r.workspace_plan,
    segment: r.workspace_segment,
    country: r.workspace_country,
    kind: r.kind,
    status: r.status,
    requestedCount: r.requested_count,
    enrichedCount: r.enriched_count,
    failedCount: r.failed_count,
    errorCode: r.error_code,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.duration_ms,
  };
}
