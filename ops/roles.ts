import type { Admin, Kafka } from 'kafkajs';
import { type OffsetRange, readRanges } from '../common/topic-reader.ts';
import { decodeSnapshot, type MetricsSnapshot, ROLE_METRICS, sampleSum } from '../contracts/metrics/index.ts';

/**
 * The roles' own verdicts, for `tributary status`: every role process publishes a metrics snapshot
 * about once a second, with ROLE_METRICS.stalled and the reason (common/liveness.ts). Reading
 * the last `windowMs` of the metrics topic finds every role instance that ran lately wherever it
 * runs — unlike probing /readyz, which needs each process's ops port (random by default) and
 * host. An instance whose last snapshot is older than `staleAfterMs` is stale: it stopped, or it
 * is too stuck to publish, which status cannot tell apart.
 */
export interface RoleStatus {
  role: string;
  /** instances heard from within staleAfterMs */
  instances: number;
  status: 'ok' | 'stalled' | 'stale';
  /** why it is stalled (each stalled instance's reason), or how long it has been silent */
  reason?: string;
  /** seconds since the role's newest snapshot */
  lastSnapshotSeconds: number;
}

interface Seen {
  snapshot: MetricsSnapshot;
  /** epoch ms of the record (the role's clock when it published) */
  at: number;
}

export async function roleStatuses(
  deps: { kafka: Kafka; admin: Admin },
  topic: string,
  opts: { windowMs?: number; staleAfterMs?: number; now?: number } = {},
): Promise<RoleStatus[]> {
  const now = opts.now ?? Date.now();
  const windowMs = opts.windowMs ?? 120_000;
  const staleAfterMs = opts.staleAfterMs ?? 15_000;
  const [from, ends] = await Promise.all([
    deps.admin.fetchTopicOffsetsByTimestamp(topic, now - windowMs),
    deps.admin.fetchTopicOffsets(topic),
  ]);
  const ranges: OffsetRange[] = ends.map((e) => {
    const start = from.find((f) => f.partition === e.partition)?.offset;
    // -1: no record at or after the timestamp
    return { topic, partition: e.partition, from: !start || start === '-1' ? e.high : start, to: e.high };
  });
  const latest = new Map<string, Seen>();
  await readRanges(deps, ranges, ({ message }) => {
    const snapshot = decodeSnapshot(message.value);
    // only role processes report liveness (a replay's progress snapshots do not)
    if (!snapshot || stalledValue(snapshot) === undefined) return undefined;
    const at = Number(message.timestamp);
    const known = latest.get(snapshot.instance);
    if (!known || at >= known.at) latest.set(snapshot.instance, { snapshot, at });
    return undefined;
  });
  return summarize([...latest.values()], now, staleAfterMs);
}

/** One row per role from the latest snapshot of each of its instances. */
export function summarize(seen: readonly Seen[], now: number, staleAfterMs: number): RoleStatus[] {
  const byRole = new Map<string, Seen[]>();
  for (const s of seen) byRole.set(s.snapshot.role, [...(byRole.get(s.snapshot.role) ?? []), s]);
  return [...byRole.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([role, all]): RoleStatus => {
      const newest = Math.max(...all.map((s) => s.at));
      const lastSnapshotSeconds = Math.max(0, Math.round((now - newest) / 1000));
      const fresh = all.filter((s) => now - s.at <= staleAfterMs);
      const stalled = fresh.filter((s) => stalledValue(s.snapshot) === 1).map(reasonOf);
      if (stalled.length > 0) {
        return {
          role,
          instances: fresh.length,
          status: 'stalled',
          reason: stalled.join(' | '),
          lastSnapshotSeconds,
        };
      }
      if (fresh.length > 0) return { role, instances: fresh.length, status: 'ok', lastSnapshotSeconds };
      return {
        role,
        instances: 0,
        status: 'stale',
        reason: `no metrics for ${lastSnapshotSeconds} s (stopped, or too stuck to publish)`,
        lastSnapshotSeconds,
      };
    });
}

const stalledValue = (s: MetricsSnapshot) => sampleSum(s.gauges, ROLE_METRICS.stalled);

function reasonOf(s: Seen): string {
  const info = s.snapshot.gauges.find((g) => g.name === ROLE_METRICS.stallInfo.name);
  return info ? (info.labels.reason ?? 'stalled') : 'stalled (no reason given)';
}
