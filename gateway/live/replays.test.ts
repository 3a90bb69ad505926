import { describe, expect, it } from 'vitest';
import { type MetricsSnapshot, REPLAY_METRICS, sample } from '../../contracts/metrics/index.ts';
import { createReplayTracker, progressOf } from './replays.ts';

const replay = (
  instance: string,
  at: number,
  groups: Record<string, { lag: number; total: number; members?: number }>,
  role = 'replay',
): MetricsSnapshot => ({
  role,
  instance,
  at,
  counters: [],
  gauges: Object.entries(groups).flatMap(([group, v]) => [
    sample(REPLAY_METRICS.lag, v.lag, { group }),
    sample(REPLAY_METRICS.total, v.total, { group }),
    sample(REPLAY_METRICS.members, v.members ?? 0, { group }),
  ]),
});

describe('replay tracker', () => {
  it('reports the latest snapshot per group with its progress', () => {
    const t = createReplayTracker();
    t.ingest(replay('replay@h:1', 1000, { b: { lag: 5000, total: 5000 } }), 10_000);
    t.ingest(replay('replay@h:1', 2000, { b: { lag: 3750, total: 5000, members: 2 } }), 11_000);
    t.ingest(replay('replay@h:2', 1000, { a: { lag: 10, total: 40 } }), 11_000);
    t.ingest(replay('replay@h:1', 1500, { b: { lag: 4900, total: 5000 } }), 11_500); // reordered: ignored
    t.ingest(replay('bronze@h:3', 1000, { c: { lag: 1, total: 2 } }, 'bronze'), 11_500); // not a replay
    expect(t.list(12_000)).toEqual([
      { group: 'a', lagMessages: 10, totalMessages: 40, progress: 0.75, members: 0, updatedAt: 11_000 },
      { group: 'b', lagMessages: 3750, totalMessages: 5000, progress: 0.25, members: 2, updatedAt: 11_000 },
    ]);
  });

  it('keeps a finished replay for a minute after its last snapshot, then drops it', () => {
    const t = createReplayTracker({ keepMs: 60_000 });
    t.ingest(replay('replay@h:1', 1000, { g: { lag: 20, total: 100, members: 1 } }), 0);
    t.ingest(replay('replay@h:1', 2000, { g: { lag: 0, total: 100, members: 1 } }), 1000);
    expect(t.list(61_000)).toEqual([
      { group: 'g', lagMessages: 0, totalMessages: 100, progress: 1, members: 1, updatedAt: 1000 },
    ]);
    expect(t.list(61_001)).toEqual([]);
  });

  it('lets a new replay run of the same group replace the old one', () => {
    const t = createReplayTracker();
    t.ingest(replay('replay@h:1', 9000, { g: { lag: 0, total: 100 } }), 0);
    t.ingest(replay('replay@h:2', 5000, { g: { lag: 300, total: 300 } }), 1000); // another clock
    expect(t.list(1000)).toMatchObject([{ group: 'g', lagMessages: 300, progress: 0 }]);
  });

  it('computes progress within 0..1', () => {
    expect(progressOf(0, 0)).toBe(1);
    expect(progressOf(50, 200)).toBe(0.75);
    expect(progressOf(300, 200)).toBe(0); // lag above the planned total (a late commit)
    expect(progressOf(5, 0)).toBe(0);
  });
});
