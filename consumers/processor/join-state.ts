import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import { ruleViolations } from './rules.ts';

/**
 * The join state of ONE input partition: the latest workspace by id, the latest job by id, and the
 * jobs of each workspace. Both raw topics are keyed by workspace id with the same partition count,
 * so a workspace and all its jobs always meet in the same partition's state.
 *
 * Pure and synchronous: the processor applies a batch, then persists what changed to the changelog
 * in the same Kafka transaction as the output and the consumed offsets.
 */
export type JobOutcome =
  | { kind: 'stale' }
  | { kind: 'rejected'; reasons: string[] }
  | { kind: 'accepted'; job: EnrichmentJob; workspace: Workspace | undefined };

export type WorkspaceOutcome =
  | { kind: 'stale' }
  | { kind: 'accepted'; workspace: Workspace; jobs: EnrichmentJob[] };

export class JoinState {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly jobs = new Map<string, EnrichmentJob>();
  private readonly jobsByWorkspace = new Map<string, Set<string>>();

  get jobCount(): number {
    return this.jobs.size;
  }
  get workspaceCount(): number {
    return this.workspaces.size;
  }

  /** Jobs whose workspace has not been seen yet (their gold records have workspace_resolved=false). */
  unresolvedJobs(): number {
    let n = 0;
    for (const [wsId, ids] of this.jobsByWorkspace) if (!this.workspaces.has(wsId)) n += ids.size;
    return n;
  }

  /** A newer version replaces the state and re-emits every job of the workspace; older or equal ones are ignored. */
  applyWorkspace(ws: Workspace): WorkspaceOutcome {
    const current = this.workspaces.get(ws.id);
    if (current && current.updated_at >= ws.updated_at) return { kind: 'stale' };
    this.workspaces.set(ws.id, ws);
    const ids = this.jobsByWorkspace.get(ws.id) ?? new Set<string>();
    return { kind: 'accepted', workspace: ws, jobs: [...ids].map((id) => this.jobs.get(id)!) };
  }

  applyJob(job: EnrichmentJob): JobOutcome {
    const current = this.jobs.get(job.id);
    if (current && current.updated_at >= job.updated_at) return { kind: 'stale' };
    const reasons = ruleViolations(job, current);
    if (reasons.length > 0) return { kind: 'rejected', reasons };
    this.putJob(job);
    return { kind: 'accepted', job, workspace: this.workspaces.get(job.workspace_id) };
  }

  /** Restores a state entry from the changelog, without rules (it was accepted when written). */
  restoreWorkspace(ws: Workspace): void {
    this.workspaces.set(ws.id, ws);
  }
  restoreJob(job: EnrichmentJob): void {
    this.putJob(job);
  }

  private putJob(job: EnrichmentJob): void {
    const previous = this.jobs.get(job.id);
    if (previous && previous.workspace_id !== job.workspace_id) {
      this.jobsByWorkspace.get(previous.workspace_id)?.delete(job.id);
    }
    this.jobs.set(job.id, job);
    let ids = this.jobsByWorkspace.get(job.workspace_id);
    if (!ids) {
      ids = new Set();
      this.jobsByWorkspace.set(job.workspace_id, ids);
    }
    ids.add(job.id);
  }
}
