import { isTerminalJobStatus } from '../contracts/job-status.ts';
import { ERROR_CODES, type Generator, type JobState, type WorkspaceState } from './generator.ts';

/**
 * How records change over time: pure functions from one state to the next, so the rules are tested
 * alone. Jobs: status only moves forward (queued → processing → completed | failed | canceled, and
 * queued → canceled), counts only grow with enriched + failed <= requested, finished_at is set exactly
 * when the status becomes terminal, error_code exactly when it fails.
 */
export const isTerminal = (job: JobState) => isTerminalJobStatus(job.status);

/** The next state of a job at time `at`, or undefined when nothing changes this time. */
export function advanceJob(job: JobState, at: number, gen: Generator): JobState | undefined {
  if (isTerminal(job)) return undefined; // finished jobs never change again
  const r = gen.float();
  if (job.status === 'queued') {
    if (r < 0.05) return finish(job, at, 'canceled');
    if (r < 0.75) return { ...job, status: 'processing', updated_at: at };
    return undefined; // still waiting in the queue
  }
  if (r < 0.04) return finish(job, at, 'failed', gen.pick(ERROR_CODES));
  if (r < 0.06) return finish(job, at, 'canceled');
  const remaining = job.requested_count - job.enriched_count - job.failed_count;
  // a few batches finish a job; a job of 1 record finishes in one step
  const step = Math.min(remaining, gen.int(1, Math.max(1, Math.ceil(job.requested_count / 3))));
  const failed = Math.floor(step * gen.float() * 0.15);
  const next: JobState = {
    ...job,
    enriched_count: job.enriched_count + step - failed,
    failed_count: job.failed_count + failed,
    updated_at: at,
  };
  if (next.enriched_count + next.failed_count < next.requested_count) return next;
  // everything processed: mostly a success, unless most records failed
  return next.failed_count > next.requested_count / 2
    ? finish(next, at, 'failed', 'too_many_failures')
    : finish(next, at, 'completed');
}

function finish(
  job: JobState,
  at: number,
  status: 'completed' | 'failed' | 'canceled',
  errorCode: string | null = null,
): JobState {
  return { ...job, status, error_code: errorCode, finished_at: at, updated_at: at };
}

/** A workspace's next state at time `at`: a plan change (upgrade or downgrade) or a rename. */
export function changeWorkspace(ws: WorkspaceState, at: number, gen: Generator): WorkspaceState {
  if (gen.chance(0.5)) return { ...ws, plan: gen.otherPlan(ws.plan), updated_at: at };
  return { ...ws, name: gen.companyName(), updated_at: at };
}
