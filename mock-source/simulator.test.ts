import { describe, expect, it } from 'vitest';
import { schemaViolations } from '../schemas/index.ts';
import { createGenerator, type JobState } from './generator.ts';
import { advanceJob, isTerminal } from './lifecycle.ts';
import { START, testSource } from './test-helpers.ts';

const STATUS_RANK: Record<string, number> = {
  queued: 0,
  processing: 1,
  completed: 2,
  failed: 2,
  canceled: 2,
};

/** wire JSON of a valid version → the Avro-shaped record (epoch ms), to check it against its schema */
function toAvro(body: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...body };
  for (const k of ['created_at', 'updated_at', 'finished_at']) {
    if (typeof out[k] === 'string') out[k] = Date.parse(out[k] as string);
  }
  return out;
}

describe('simulator', () => {
  it('writes the initial population at start: workspaces, and jobs in the same tick', () => {
    const s = testSource({ TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '15' });
    expect(s.simulator.counts().workspaces).toBe(15);
    expect(s.workspaces.size).toBe(15);
    expect(s.jobs.size).toBeGreaterThan(0);
    for (const j of s.jobs.all()) {
      expect(j.updatedAt).toBe(START);
      // a job of a workspace written in the same tick: a consumer may see either first
      expect(s.workspaces.latest(String(j.body.workspace_id))?.updatedAt).toBe(START);
    }
  });

  it('keeps every job invariant over many ticks, and every valid version fits its Avro schema', () => {
    const s = testSource({ TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '20' });
    for (let i = 0; i < 150; i++) s.tick(i % 7 === 0 ? 1 : 997);
    const byId = new Map<string, Record<string, unknown>[]>();
    for (const v of s.jobs.all()) {
      expect(v.malformed).toBe(false);
      expect(schemaViolations('enrichment-job', toAvro(v.body))).toEqual([]);
      byId.set(v.id, [...(byId.get(v.id) ?? []), v.body]);
    }
    let terminal = 0;
    for (const versions of byId.values()) {
      versions.sort((a, b) => Date.parse(String(a.updated_at)) - Date.parse(String(b.updated_at)));
      let prev: Record<string, unknown> | undefined;
      for (const j of versions) {
        const counts = Number(j.enriched_count) + Number(j.failed_count);
        expect(counts).toBeLessThanOrEqual(Number(j.requested_count));
        const done = STATUS_RANK[String(j.status)] === 2;
        expect(j.finished_at !== null).toBe(done);
        expect(j.error_code !== null).toBe(j.status === 'failed');
        expect(Date.parse(String(j.updated_at))).toBeLessThanOrEqual(s.clock.t);
        if (prev) {
          expect(Date.parse(String(j.updated_at))).toBeGreaterThan(Date.parse(String(prev.updated_at)));
          expect(STATUS_RANK[String(j.status)]).toBeGreaterThanOrEqual(STATUS_RANK[String(prev.status)]!);
          expect(prev.finished_at).toBeNull(); // nothing changes after a terminal status
          expect(Number(j.enriched_count)).toBeGreaterThanOrEqual(Number(prev.enriched_count));
          expect(Number(j.failed_count)).toBeGreaterThanOrEqual(Number(prev.failed_count));
          expect(j.requested_count).toBe(prev.requested_count);
          expect(j.created_at).toBe(prev.created_at);
        }
        if (done) {
          terminal++;
          expect(j.finished_at).toBe(j.updated_at);
        }
        prev = j;
      }
    }
    expect(terminal).toBeGreaterThan(10); // the run did reach terminal states
    for (const v of s.workspaces.all()) {
      expect(schemaViolations('workspace', toAvro(v.body))).toEqual([]);
    }
  });

  it('keeps the population bounded', () => {
    const s = testSource({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '3',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '5',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '12',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '30',
    });
    for (let i = 0; i < 100; i++) s.tick();
    expect(s.simulator.counts()).toEqual({ workspaces: 5, jobs: 12 });
  });

  it('writes nothing when the clock has not moved past the previous tick', () => {
    const s = testSource();
    const before = s.workspaces.size + s.jobs.size;
    expect(s.tick(0)).toEqual({ at: START, versions: 0, skipped: true });
    expect(s.tick(-5).skipped).toBe(true);
    expect(s.workspaces.size + s.jobs.size).toBe(before);
    expect(s.tick(6).skipped).toBe(false);
  });

  it('is deterministic: same seed and clock, same data; another seed, other data', () => {
    const run = (seed: string) => {
      const s = testSource({
        TRIBUTARY_MOCK_SOURCE_SEED: seed,
        TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.1',
      });
      for (let i = 0; i < 20; i++) s.tick();
      return [...s.workspaces.all(), ...s.jobs.all()];
    };
    const a = run('7');
    expect(run('7')).toEqual(a);
    expect(run('8')).not.toEqual(a);
  });

  it('writes malformed versions at the configured rate, each superseded by a valid one next tick', () => {
    const s = testSource({ TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.3' });
    for (let i = 0; i < 10; i++) s.tick();
    s.faults.update({ rateMalformedRecord: 0 });
    s.tick();
    let malformed = 0;
    for (const [store, schema] of [
      [s.workspaces, 'workspace'],
      [s.jobs, 'enrichment-job'],
    ] as const) {
      for (const v of store.all()) {
        const problems = schemaViolations(schema, toAvro(v.body));
        expect(problems.length > 0).toBe(v.malformed); // exactly the flagged versions are defective
        expect(typeof v.body.id).toBe('string');
        expect(v.body.updated_at).toBe(new Date(v.updatedAt).toISOString());
        if (v.malformed) {
          malformed++;
          expect(problems).toHaveLength(1); // one defect per malformed version
        }
      }
      for (const v of store.all()) expect(store.latest(v.id)?.malformed).toBe(false);
    }
    expect(malformed).toBeGreaterThan(3);
  });
});

describe('job lifecycle', () => {
  it('only moves forward, and a job of one record finishes in one processing step', () => {
    const gen = createGenerator({ seed: 1 });
    for (let n = 0; n < 200; n++) {
      let job: JobState = { ...gen.job({ workspaceId: 'w', at: 0 }), requested_count: 1 };
      for (let at = 1; at < 200 && !isTerminal(job); at++) {
        const next = advanceJob(job, at, gen);
        if (!next) continue;
        expect(STATUS_RANK[next.status]).toBeGreaterThanOrEqual(STATUS_RANK[job.status]!);
        if (job.status === 'processing' && next.status === 'processing') {
          throw new Error('a one-record job must finish in one step');
        }
        job = next;
      }
      expect(isTerminal(job)).toBe(true);
      expect(advanceJob(job, 1000, gen)).toBeUndefined();
    }
  });
});
