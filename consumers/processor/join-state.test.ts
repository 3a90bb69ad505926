import { describe, expect, it } from 'vitest';
import { job, workspace } from '../../tests/support/fixtures.ts';
import { goldRecord } from './gold-record.ts';
import { JoinState } from './join-state.ts';
import { ruleViolations } from './rules.ts';

describe('JoinState', () => {
  it('emits a job before its workspace unresolved, then re-emits it when the workspace arrives', () => {
    const s = new JoinState();
    const ws = workspace();
    const j = job({ workspace_id: ws.id });
    const first = s.applyJob(j);
    expect(first).toMatchObject({ kind: 'accepted', workspace: undefined });
    expect(s.unresolvedJobs()).toBe(1);
    const wsOutcome = s.applyWorkspace(ws);
    expect(wsOutcome).toEqual({ kind: 'accepted', workspace: ws, jobs: [j] });
    expect(s.unresolvedJobs()).toBe(0);
  });

  it('re-emits every job of a workspace on a workspace update and ignores older or equal versions', () => {
    const s = new JoinState();
    const ws = workspace({ updated_at: 10 });
    const jobs = [job({ workspace_id: ws.id }), job({ workspace_id: ws.id })];
    s.applyWorkspace(ws);
    for (const j of jobs) s.applyJob(j);
    const renamed = { ...ws, name: 'Renamed', updated_at: 20 };
    const outcome = s.applyWorkspace(renamed);
    expect(outcome.kind === 'accepted' && outcome.jobs.map((j) => j.id).sort()).toEqual(
      jobs.map((j) => j.id).sort(),
    );
    expect(s.applyWorkspace(ws)).toEqual({ kind: 'stale' });
    expect(s.applyWorkspace(renamed)).toEqual({ kind: 'stale' });
  });

  it('ignores replayed job versions and rejects rule breakers without changing state', () => {
    const s = new JoinState();
    const v1 = job({ status: 'processing', updated_at: 10 });
    expect(s.applyJob(v1).kind).toBe('accepted');
    expect(s.applyJob(v1)).toEqual({ kind: 'stale' });
    const backward = { ...v1, status: 'queued' as const, updated_at: 20 };
    expect(s.applyJob(backward)).toEqual({
      kind: 'rejected',
      reasons: ['status moved backward from processing to queued'],
    });
    const v2 = { ...v1, status: 'completed' as const, enriched_count: 100, updated_at: 30, finished_at: 30 };
    expect(s.applyJob(v2).kind).toBe('accepted');
  });
});

describe('ruleViolations', () => {
  it('names each broken rule', () => {
    expect(
      ruleViolations(job({ requested_count: 10, enriched_count: 8, failed_count: 3 }), undefined),
    ).toEqual(['enriched_count + failed_count (11) exceeds requested_count (10)']);
    expect(ruleViolations(job({ failed_count: -1 }), undefined)).toEqual(['failed_count is negative (-1)']);
    const done = job({ status: 'completed' });
    expect(ruleViolations({ ...done, status: 'failed' }, done)).toEqual([
      'status changed after the terminal status completed (to failed)',
    ]);
    expect(ruleViolations(job(), undefined)).toEqual([]);
  });
});

describe('goldRecord', () => {
  it('derives duration, success rate and terminal flag, and nulls workspace fields while unresolved', () => {
    const j = job({
      status: 'completed',
      requested_count: 200,
      enriched_count: 150,
      failed_count: 50,
      created_at: 1000,
      finished_at: 6000,
      updated_at: 6000,
    });
    const unresolved = goldRecord(j, undefined, 7000);
    expect(unresolved).toMatchObject({
      job_id: j.id,
      workspace_resolved: false,
      workspace_name: null,
      workspace_plan: null,
      workspace_updated_at: null,
      duration_ms: 5000,
      success_rate: 0.75,
      is_terminal: true,
      job_updated_at: 6000,
      processed_at: 7000,
    });
    const ws = workspace({ id: j.workspace_id, updated_at: 42 });
    expect(goldRecord(j, ws, 7000)).toMatchObject({
      workspace_resolved: true,
      workspace_name: ws.name,
      workspace_updated_at: 42,
    });
    expect(goldRecord(job({ requested_count: 0 }), ws, 0)).toMatchObject({
      success_rate: null,
      duration_ms: null,
      is_terminal: false,
    });
  });
});
