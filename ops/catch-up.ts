import type { Admin, Kafka } from 'kafkajs';
import { firstMessages, type OffsetRange, tpKey } from '../common/topic-reader.ts';

/**
 * Follows a consumer group until its committed offsets reach target offsets (e.g. the end offsets
 * when a replay started). A partition also counts as reached when only transaction markers or
 * aborted records lie between its committed offset and the target: consumers that commit explicitly
 * never commit past those. That is checked by reading (see common/topic-reader.ts), but only for partitions that
 * are nearly there or have stopped moving, and at most every `peekEveryMs`.
 */
export interface CatchUpTarget {
  topic: string;
  partition: number;
  offset: string;
}

export interface CatchUpProgress {
  /** records (offsets) still to consume up to the targets */
  remaining: number;
  done: boolean;
}

export interface CatchUpWatcher {
  check(): Promise<CatchUpProgress>;
}

const NEARLY_THERE = 3n;

export function createCatchUpWatcher(
  deps: { kafka: Kafka; admin: Admin },
  group: string,
  targets: readonly CatchUpTarget[],
  opts: { peekEveryMs?: number; now?: () => number } = {},
): CatchUpWatcher {
  const now = opts.now ?? Date.now;
  const peekEveryMs = opts.peekEveryMs ?? 2000;
  const topics = [...new Set(targets.map((t) => t.topic))];
  const reached = new Set<string>();
  const previous = new Map<string, bigint>();
  let lastPeek = Number.NEGATIVE_INFINITY;

  return {
    async check() {
      const committed = new Map<string, bigint>();
      if (topics.length > 0) {
        for (const t of await deps.admin.fetchOffsets({ groupId: group, topics })) {
          for (const p of t.partitions) committed.set(tpKey(t.topic, p.partition), BigInt(p.offset));
        }
      }
      let remaining = 0n;
      const open: Array<OffsetRange & { gap: bigint; moved: boolean }> = [];
      for (const t of targets) {
        const key = tpKey(t.topic, t.partition);
        if (reached.has(key)) continue;
        const c = committed.get(key) ?? -1n;
        const target = BigInt(t.offset);
        const from = c < 0n ? 0n : c;
        if (from >= target) {
          reached.add(key);
          continue;
        }
        const gap = target - from;
        remaining += gap;
        open.push({
          topic: t.topic,
          partition: t.partition,
          from: from.toString(),
          to: t.offset,
          gap,
          moved: previous.get(key) !== c,
        });
        previous.set(key, c);
      }
      const candidates = open.filter((o) => o.gap <= NEARLY_THERE || !o.moved);
      if (candidates.length > 0 && now() - lastPeek >= peekEveryMs) {
        lastPeek = now();
        const found = await firstMessages(deps, candidates);
        for (const c of candidates) {
          const key = tpKey(c.topic, c.partition);
          if (!found.has(key)) {
            reached.add(key);
            remaining -= c.gap;
          }
        }
      }
      return { remaining: Number(remaining), done: reached.size === targets.length };
    },
  };
}

/** The current end offsets of the topics, as catch-up targets. */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<CatchUpTarget[]> {
  const out: CatchUpTarget[] = [];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic))
      out.push({ topic, partition: p.partition, offset: p.high });
  }
  return out;
}
