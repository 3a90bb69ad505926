import { type MetricsSnapshot, REPLAY_METRICS, REPLAY_ROLE } from '../../contracts/metrics/index.ts';
import type { ReplayState } from '../events.ts';

/**
 * The progress of `tributary replay` runs, from the snapshots of role REPLAY_ROLE (gauges:
 * REPLAY_METRICS in contracts/metrics/, ops/README.md "Replay progress metrics"). Kept apart from
 * the aggregator because it needs the opposite retention: the replay command publishes a last
 * snapshot (lag 0) and stops, and that finished state must stay visible for `keepMs` so the
 * operator sees it complete, where the aggregator drops an instance after 15 s of silence.
 */
const FIELDS = Object.keys(REPLAY_METRICS) as Array<keyof typeof REPLAY_METRICS>;

export interface ReplayTracker {
  ingest(snapshot: MetricsSnapshot, receivedAt: number): void;
  /** one entry per group heard from within keepMs (gateway clock), sorted by group */
  list(now: number): ReplayState[];
}

interface Entry {
  instance: string;
  at: number;
  receivedAt: number;
  lag: number;
  total: number;
  members: number;
}

export function createReplayTracker(opts: { keepMs?: number } = {}): ReplayTracker {
  const keepMs = opts.keepMs ?? 60_000;
  const groups = new Map<string, Entry>();

  function forget(now: number) {
    for (const [group, e] of groups) if (now - e.receivedAt > keepMs) groups.delete(group);
  }

  return {
    ingest(snapshot, receivedAt) {
      if (snapshot.role !== REPLAY_ROLE) return;
      const byGroup = new Map<string, Partial<Record<keyof typeof REPLAY_METRICS, number>>>();
      for (const { name, labels, value } of snapshot.gauges) {
        const field = FIELDS.find((f) => REPLAY_METRICS[f].name === name);
        if (!field || labels.group === undefined) continue;
        const g = byGroup.get(labels.group) ?? {};
        g[field] = value;
        byGroup.set(labels.group, g);
      }
      for (const [group, g] of byGroup) {
        if (g.lag === undefined || g.total === undefined) continue;
        const known = groups.get(group);
        // a replayed or reordered snapshot of the same run must not move the bar backwards;
        // a new run (another instance) replaces the old one
        if (known && known.instance === snapshot.instance && snapshot.at <= known.at) continue;
        groups.set(group, {
          instance: snapshot.instance,
          at: snapshot.at,
          receivedAt,
          lag: g.lag,
          total: g.total,
          members: g.members ?? 0,
        });
      }
      forget(receivedAt);
    },
    list(now) {
      forget(now);
      return [...groups.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([group, e]) => ({
          group,
          lagMessages: e.lag,
          totalMessages: e.total,
          progress: progressOf(e.lag, e.total),
          members: e.members,
          updatedAt: e.receivedAt,
        }));
    },
  };
}

/** reprocessed / total (= 1 − lag / total), within 0..1; nothing to reprocess counts as done. */
export function progressOf(lag: number, total: number): number {
  if (lag <= 0) return 1;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, (total - lag) / total)); // not 1 − lag/total: 0.2, not 0.19999…
}
