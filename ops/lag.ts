import type { Admin, Kafka } from 'kafkajs';
import { firstMessages, type OffsetRange, tpKey } from '../common/topic-reader.ts';

/**
 * Where a consumer group stands: per partition, its committed offset against the partition's end,
 * and how old the oldest record it has not consumed yet is.
 *
 * Lag in messages is the usual `end - committed`, except that a partition where only transaction
 * markers (or aborted records) are left counts 0: consumers that commit explicitly never commit past
 * trailing markers, and such a partition is caught up. Lag in seconds is the age of the oldest
 * unconsumed record (read by offset), 0 when caught up.
 */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** null when the group has never committed on this partition */
  committed: string | null;
  low: string;
  high: string;
  lag: number;
  /** epoch ms of the oldest unconsumed record, when there is one */
  oldestUnconsumedAt?: number;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
}

export interface GroupLag {
  group: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, Dead… */
  state: string;
  members: GroupMember[];
  lagMessages: number;
  lagSeconds: number;
  partitions: PartitionLag[];
}

export async function describeMembers(
  admin: Admin,
  group: string,
): Promise<{ state: string; members: GroupMember[] }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0];
  return {
    state: g?.state ?? 'Dead',
    members: (g?.members ?? []).map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
    })),
  };
}

/** Committed offsets and watermarks of the group on `topics` (default: every topic it committed on). */
export async function committedPositions(
  admin: Admin,
  group: string,
  topics?: readonly string[],
): Promise<Array<Omit<PartitionLag, 'lag' | 'oldestUnconsumedAt'>>> {
  const committed = await admin.fetchOffsets(
    topics ? { groupId: group, topics: [...topics] } : { groupId: group },
  );
  const existing = new Set(await admin.listTopics());
  const out: Array<Omit<PartitionLag, 'lag' | 'oldestUnconsumedAt'>> = [];
  for (const t of committed) {
    if (!existing.has(t.topic)) continue; // offsets of a deleted topic: nothing left to consume
    for (const end of await admin.fetchTopicOffsets(t.topic)) {
      const c = t.partitions.find((p) => p.partition === end.partition);
      out.push({
        topic: t.topic,
        partition: end.partition,
        committed: c && c.offset !== '-1' ? c.offset : null,
        low: end.low,
        high: end.high,
      });
    }
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

export async function groupLag(
  deps: { kafka: Kafka; admin: Admin },
  group: string,
  opts: { topics?: readonly string[]; now?: () => number } = {},
): Promise<GroupLag> {
  const now = opts.now ?? Date.now;
  const [{ state, members }, positions] = await Promise.all([
    describeMembers(deps.admin, group),
    committedPositions(deps.admin, group, opts.topics),
  ]);
  const behind: OffsetRange[] = positions
    .map((p) => ({ topic: p.topic, partition: p.partition, from: startOf(p), to: p.high }))
    .filter((r) => BigInt(r.from) < BigInt(r.to));
  const oldest = await firstMessages(deps, behind);
  const checkedAt = now();
  const partitions: PartitionLag[] = positions.map((p) => {
    const first = oldest.get(tpKey(p.topic, p.partition));
    if (!first) return { ...p, lag: 0 };
    return {
      ...p,
      lag: Number(BigInt(p.high) - BigInt(startOf(p))),
      oldestUnconsumedAt: Number(first.timestamp),
    };
  });
  const ages = partitions
    .filter((p) => p.oldestUnconsumedAt !== undefined)
    .map((p) => Math.max(0, (checkedAt - p.oldestUnconsumedAt!) / 1000));
  return {
    group,
    state,
    members,
    lagMessages: partitions.reduce((n, p) => n + p.lag, 0),
    lagSeconds: ages.length > 0 ? Math.max(...ages) : 0,
    partitions,
  };
}

/** Where the group resumes: its committed offset, or the start of the log when it has none (or it was deleted by retention). */
export function startOf(p: { committed: string | null; low: string }): string {
  if (p.committed === null) return p.low;
  return BigInt(p.committed) < BigInt(p.low) ? p.low : p.committed;
}
