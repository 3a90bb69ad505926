import { isTerminalJobStatus } from '../../contracts/job-status.ts';
import type { EnrichmentJob, EnrichmentJobGold, Workspace } from '../../schemas/generated/types.ts';

/** The gold record of a job joined with the latest state of its workspace (or none yet). */
export function goldRecord(
  job: EnrichmentJob,
  workspace: Workspace | undefined,
  processedAt: number,
): EnrichmentJobGold {
  return {
    job_id: job.id,
    workspace_id: job.workspace_id,
    kind: job.kind,
    status: job.status,
    requested_count: job.requested_count,
    enriched_count: job.enriched_count,
    failed_count: job.failed_count,
    error_code: job.error_code,
    created_at: job.created_at,
    finished_at: job.finished_at,
    workspace_name: workspace?.name ?? null,
    workspace_plan: workspace?.plan ?? null,
    workspace_segment: workspace?.segment ?? null,
    workspace_country: workspace?.country ?? null,
    workspace_resolved: workspace !== undefined,
    duration_ms: job.finished_at !== null ? job.finished_at - job.created_at : null,
    success_rate: job.requested_count > 0 ? job.enriched_count / job.requested_count : null,
    is_terminal: isTerminalJobStatus(job.status),
    job_updated_at: job.updated_at,
    workspace_updated_at: workspace?.updated_at ?? null,
    processed_at: processedAt,
  };
}
