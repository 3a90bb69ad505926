import { isTerminalJobStatus, JOB_STATUS_RANK } from '../../contracts/job-status.ts';
import type { EnrichmentJob } from '../../schemas/generated/types.ts';

/**
 * Business rules a job version must satisfy before it reaches gold. A version that breaks one goes
 * to dlq.gold.enrichment-jobs with the reason, and the job's state keeps its last good version.
 */

export function ruleViolations(job: EnrichmentJob, previous: EnrichmentJob | undefined): string[] {
  const problems: string[] = [];
  for (const field of ['requested_count', 'enriched_count', 'failed_count'] as const) {
    if (job[field] < 0) problems.push(`${field} is negative (${job[field]})`);
  }
  if (job.enriched_count + job.failed_count > job.requested_count) {
    problems.push(
      `enriched_count + failed_count (${job.enriched_count + job.failed_count}) exceeds requested_count (${job.requested_count})`,
    );
  }
  if (previous) {
    if (JOB_STATUS_RANK[job.status] < JOB_STATUS_RANK[previous.status]) {
      problems.push(`status moved backward from ${previous.status} to ${job.status}`);
    } else if (isTerminalJobStatus(previous.status) && job.status !== previous.status) {
      problems.push(`status changed after the terminal status ${previous.status} (to ${job.status})`);
    }
  }
  return problems;
}
