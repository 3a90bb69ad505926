import type { Admin } from 'kafkajs';
import { TributaryError } from '../common/errors.ts';
import { waitFor } from '../common/wait-for.ts';
import { describeMembers, type GroupMember } from './lag.ts';
import type { ReplayTarget } from './replay-target.ts';

/**
 * `tributary replay`: moves a consumer group's committed offsets back (or forward) through the admin
 * API, so the group reprocesses from there when it runs again. Kafka only lets offsets be set while
 * the group has no members, and nothing here can stop a remote process: the command refuses, or
 * waits for the operator to stop the members it names.
 */
export interface ReplayMove {
  topic: string;
  partition: number;
  /** committed offset before the move; null when the group had none */
  from: string | null;
  to: string;
  low: string;
  high: string;
}

export interface ReplayPlan {
  group: string;
  moves: ReplayMove[];
  /** offsets between each new position and the partition's end */
  toReprocess: number;
}

export class GroupActiveError extends TributaryError {
  constructor(
    readonly group: string,
    readonly members: GroupMember[],
  ) {
    super(`consumer group ${group} has ${members.length} active member(s): ${describeMemberList(members)}`, {
      retriable: true,
      fix: 'stop those consumers first, or pass --stop-members to wait until they have left',
    });
  }
}

export function describeMemberList(members: readonly GroupMember[]): string {
  return members.map((m) => `${m.clientId} on ${m.clientHost.replace(/^\//, '')} (${m.memberId})`).join(', ');
}

export async function assertNoMembers(admin: Admin, group: string): Promise<void> {
  const { members } = await describeMembers(admin, group);
  if (members.length > 0) throw new GroupActiveError(group, members);
}

/** Waits until the group has no members, calling `onMembers` whenever the member list changes. */
export async function waitForMembersToLeave(
  admin: Admin,
  group: string,
  opts: { timeoutMs: number; onMembers: (members: GroupMember[]) => void; signal?: AbortSignal },
): Promise<void> {
  let last = '';
  let members: GroupMember[] = [];
  try {
    await waitFor(
      async () => {
        members = (await describeMembers(admin, group)).members;
        const now = members.map((m) => m.memberId).join(',');
        if (members.length > 0 && now !== last) opts.onMembers(members);
        last = now;
        return members.length === 0;
      },
      {
        timeoutMs: opts.timeoutMs,
        intervalMs: 1000,
        what: `the members of ${group} to leave`,
        signal: opts.signal,
      },
    );
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new GroupActiveError(group, members);
  }
}

export async function planReplay(
  admin: Admin,
  group: string,
  target: ReplayTarget,
  topicsOption?: readonly string[],
): Promise<ReplayPlan> {
  const topics =
    target.kind === 'offsets'
      ? [...new Set(target.offsets.map((o) => o.topic))]
      : topicsOption && topicsOption.length > 0
        ? [...topicsOption]
        : await committedTopics(admin, group);
  if (topics.length === 0) {
    throw new TributaryError(`consumer group ${group} has no committed offsets, so its topics are unknown`, {
      fix: 'name them with --topic <topic...>',
    });
  }
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) throw new TributaryError(`topic ${missing.join(', ')} does not exist`);
  const committed = await admin.fetchOffsets({ groupId: group, topics });
  const moves: ReplayMove[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const wanted = await targetOffsets(admin, topic, target, ends);
    for (const { partition, offset } of wanted) {
      const end = ends.find((e) => e.partition === partition);
      if (!end) throw new TributaryError(`topic ${topic} has no partition ${partition}`);
      if (BigInt(offset) < BigInt(end.low) || BigInt(offset) > BigInt(end.high)) {
        throw new TributaryError(
          `offset ${offset} is outside ${topic}/${partition}, which holds offsets ${end.low} to ${end.high}`,
        );
      }
      const c = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
      moves.push({
        topic,
        partition,
        from: c && c.offset !== '-1' ? c.offset : null,
        to: offset,
        low: end.low,
        high: end.high,
      });
    }
  }
  moves.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const toReprocess = moves.reduce((n, m) => n + Number(BigInt(m.high) - BigInt(m.to)), 0);
  return { group, moves, toReprocess };
}

async function targetOffsets(
  admin: Admin,
  topic: string,
  target: ReplayTarget,
  ends: Array<{ partition: number; low: string; high: string }>,
): Promise<Array<{ partition: number; offset: string }>> {
  switch (target.kind) {
    case 'earliest':
      return ends.map((e) => ({ partition: e.partition, offset: e.low }));
    case 'latest':
      return ends.map((e) => ({ partition: e.partition, offset: e.high }));
    case 'timestamp':
      // The first record with a timestamp at or after the time; the end when there is none.
      return (await admin.fetchTopicOffsetsByTimestamp(topic, target.ms)).map((p) => ({
        partition: p.partition,
        offset: p.offset,
      }));
    case 'offsets':
      return target.offsets.filter((o) => o.topic === topic);
  }
}

async function committedTopics(admin: Admin, group: string): Promise<string[]> {
  const committed = await admin.fetchOffsets({ groupId: group });
  return committed.filter((t) => t.partitions.some((p) => p.offset !== '-1')).map((t) => t.topic);
}

/**
 * Writes the plan's offsets. Kafka refuses while the group has members; a member that joined since
 * the check makes this fail with that message, and nothing was half-applied for that topic.
 */
export async function applyReplay(admin: Admin, plan: ReplayPlan): Promise<void> {
  await assertNoMembers(admin, plan.group);
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const m of plan.moves) {
    const list = byTopic.get(m.topic) ?? [];
    list.push({ partition: m.partition, offset: m.to });
    byTopic.set(m.topic, list);
  }
  for (const [topic, partitions] of byTopic) {
    await admin.setOffsets({ groupId: plan.group, topic, partitions });
  }
}
