import { describe, expect, it } from 'vitest';
import {
  lagVerdict,
  percentile,
  type Sample,
  STAGES,
  type StageKey,
  stalledStage,
  summarizeStage,
} from './analysis.ts';

/** A sample at `t` s where every stage has `count` unless `counts` says otherwise. */
function sample(
  t: number,
  counts: Partial<Record<StageKey, number>>,
  committed: Record<string, number> = {},
) {
  const all = Object.fromEntries(STAGES.map((s) => [s, counts[s] ?? 0])) as Record<StageKey, number>;
  return { t: t * 1000, counts: all, jobs: 0, lag: {}, committed, rss: 0 } satisfies Sample;
}

describe('summarizeStage', () => {
  it('rates a stage over the time it was moving, from the sample before it moved to its final value', () => {
    const samples = [
      sample(0, { bronze: 0 }),
      sample(1, { bronze: 0 }),
      sample(2, { bronze: 500 }),
      sample(3, { bronze: 1000 }),
      sample(4, { bronze: 1000 }),
    ];
    expect(summarizeStage(samples, 'bronze')).toEqual({
      stage: 'bronze',
      first: 0,
      final: 1000,
      startedAt: 1000,
      reachedAt: 3000,
      rate: 500,
    });
  });

  it('has no rate for a stage that never moved', () => {
    expect(summarizeStage([sample(0, {}), sample(5, {})], 'goldMongo').rate).toBeNull();
  });
});

describe('stalledStage', () => {
  const notDone = () => false;

  it('names the most upstream stage that stopped, not the downstream ones that wait for it', () => {
    const samples = [
      sample(0, { polled: 100, raw: 100, bronze: 50 }),
      sample(10, { polled: 300, raw: 300, bronze: 300 }),
      sample(45, { polled: 300, raw: 300, bronze: 300 }),
    ];
    expect(stalledStage(samples, notDone, 30_000)).toBe('polled');
  });

  it('waits for the stall window, and ignores stages that are done', () => {
    const onlyPolledLeft = (s: StageKey) => s !== 'polled';
    const samples = [sample(0, { polled: 100 }), sample(10, { polled: 300 }), sample(30, { polled: 300 })];
    expect(stalledStage(samples, onlyPolledLeft, 30_000)).toBeUndefined();
    const later = [...samples, sample(41, { polled: 300 })];
    expect(stalledStage(later, onlyPolledLeft, 30_000)).toBe('polled');
    expect(stalledStage(later, () => true, 30_000)).toBeUndefined();
  });

  it('counts a consumer that only commits offsets (updates, no new rows) as moving', () => {
    const samples = [
      sample(0, { goldMongo: 100 }, { g: 10 }),
      sample(20, { goldMongo: 100 }, { g: 500 }),
      sample(40, { goldMongo: 100 }, { g: 900 }),
    ];
    const done = (s: StageKey) => s !== 'goldMongo';
    expect(stalledStage(samples, done, 30_000)).toBe('goldMongo');
    expect(
      stalledStage(samples, done, 30_000, (s, st) => s.counts[st] + (s.committed.g ?? 0)),
    ).toBeUndefined();
  });
});

describe('lagVerdict', () => {
  const series = (f: (t: number) => number) =>
    Array.from({ length: 60 }, (_, t) => ({ t: t * 1000, lag: f(t) }));

  it('calls a lag that levels off bounded, even when it was high', () => {
    const v = lagVerdict(
      'g',
      series((t) => (t < 30 ? t * 100 : 3000 + (t % 2) * 50)),
      1000,
    );
    expect(v).toMatchObject({ bounded: true, max: 3050 });
  });

  it('calls a saw-tooth lag (a consumer that commits in batches) bounded', () => {
    expect(
      lagVerdict(
        'g',
        series((t) => (t % 5) * 400),
        1000,
      ).bounded,
    ).toBe(true);
  });

  it('calls a lag that keeps growing in the last quarter unbounded', () => {
    const v = lagVerdict(
      'g',
      series((t) => t * 100),
      1000,
    );
    expect(v.bounded).toBe(false);
    expect(v.slope).toBeCloseTo(100);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 50)).toBeUndefined();
  });
});
