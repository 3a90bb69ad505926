import type { Admin, Kafka } from 'kafkajs';
import type { CommittedOffset, OffsetHistory, PartitionEnd } from './offset-history.ts';

/**
 * What the Kafka admin API says each tick: end offsets of the watched topics (recorded in the
 * offset history) and the committed offsets of the watched consumer groups. Topic and group lists
 * change rarely, so they are refreshed every `listEveryMs` rather than every tick.
 */
export interface GroupOffsets {
  group: string;
  committed: CommittedOffset[];
}

export interface KafkaWatch {
  /** one round of admin calls; throws when Kafka does not answer */
  sample(now: number): Promise<GroupOffsets[]>;
  close(): Promise<void>;
}

export interface KafkaWatchDeps {
  /** the watch owns its admin client, to replace it when a watched topic is deleted */
  kafka: Kafka;
  offsets: OffsetHistory;
  /** topics whose end offsets are always sampled (raw, gold, dead-letter) */
  topics: string[];
  /** explicit groups; when empty, groups named `groupPrefix…` are discovered */
  groups: string[];
  groupPrefix: string;
  /**
   * groups watched besides the discovered ones when `groups` is empty: the pipeline's (the
   * topology's), so a group renamed outside the prefix still shows; one that never committed shows
   * nothing, as a discovered one
   */
  pipelineGroups?: string[];
  /** groups never watched (the gateway's own) */
  excludePrefix: string;
  listEveryMs?: number;
}

export async function createKafkaWatch(deps: KafkaWatchDeps): Promise<KafkaWatch> {
  const listEveryMs = deps.listEveryMs ?? 10_000;
  let admin: Admin = deps.kafka.admin();
  await admin.connect();
  let listedAt = Number.NEGATIVE_INFINITY;
  let existing = new Set<string>();
  let groups: string[] = deps.groups;

  async function refreshLists(now: number) {
    // a configured topic that does not exist yet is looked for more often
    const missing = deps.topics.some((t) => !existing.has(t));
    if (now - listedAt < (missing ? Math.min(2000, listEveryMs) : listEveryMs)) return;
    existing = new Set(await admin.listTopics());
    if (deps.groups.length === 0) {
      const { groups: all } = await admin.listGroups();
      const discovered = all
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(deps.groupPrefix) && !g.startsWith(deps.excludePrefix));
      groups = [...new Set([...discovered, ...(deps.pipelineGroups ?? [])])].sort();
    }
    listedAt = now;
  }

  async function sampleOnce(now: number): Promise<GroupOffsets[]> {
    await refreshLists(now);
    const perGroup = await Promise.all(
      groups.map(async (group): Promise<GroupOffsets> => {
        const topics = await admin.fetchOffsets({ groupId: group });
        return {
          group,
          committed: topics.flatMap((t) =>
            t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })),
          ),
        };
      }),
    );
    const topics = new Set(deps.topics);
    for (const g of perGroup) for (const c of g.committed) topics.add(c.topic);
    // a missing topic is skipped, not created (and would fail the whole round otherwise)
    const ends = await Promise.all(
      [...topics]
        .filter((t) => existing.has(t))
        .map(async (topic): Promise<PartitionEnd[]> => {
          const partitions = await admin.fetchTopicOffsets(topic);
          return partitions.map((p) => ({
            topic,
            partition: p.partition,
            high: Number(p.high),
            low: Number(p.low),
          }));
        }),
    );
    deps.offsets.record(now, ends.flat());
    // groups that never committed (short-lived readers) have no lag to show
    return perGroup.filter((g) => g.committed.some((c) => c.offset >= 0));
  }

  return {
    async sample(now) {
      try {
        return await sampleOnce(now);
      } catch (err) {
        if (!unknownTopic(err)) throw err;
        // kafkajs keeps every topic it was asked about in its metadata requests, so one deleted
        // topic fails every later call of this client: start a fresh one and list again
        await admin.disconnect().catch(() => {}); // replaced below: a failing disconnect leaves only a closed socket
        admin = deps.kafka.admin();
        await admin.connect();
        listedAt = Number.NEGATIVE_INFINITY;
        return sampleOnce(now);
      }
    },
    close: () => admin.disconnect(),
  };
}

/** kafkajs wraps the broker's error in KafkaJSNumberOfRetriesExceeded (`cause`) after its retries. */
function unknownTopic(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}
