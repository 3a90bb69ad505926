import { AssignerProtocol, type GroupMember, type PartitionAssigner } from 'kafkajs';

/**
 * The processor's partition assigner: a task is one partition NUMBER across the co-partitioned
 * input topics (a workspace and its jobs share it, and so does its changelog partition), and a task
 * goes to one member whole. kafkajs' round-robin spreads topic-partitions one by one, which with
 * two members would give `raw.workspaces`/0 to one and `raw.enrichment-jobs`/0 to the other: two
 * half-states writing one changelog partition, and two owners of task 0's transactional id fencing
 * each other (consumers/processor/tasks.ts).
 *
 * Tasks go round-robin over the members sorted by id. The name differs from kafkajs' assigners on
 * purpose: a member with another assigner cannot join the group (INCONSISTENT_GROUP_PROTOCOL)
 * instead of silently splitting tasks.
 */
export const TASK_ASSIGNER_NAME = 'TributaryTaskAssigner';

/** The pure part: task partitions per member, every topic's partition p to the same member. */
export function assignTasks(
  memberIds: readonly string[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const tasks = [...new Set([...partitionsByTopic.values()].flat())].sort((a, b) => a - b);
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  if (members.length === 0) return out;
  tasks.forEach((task, i) => {
    const assignment = out.get(members[i % members.length]!)!;
    for (const [topic, partitions] of partitionsByTopic) {
      if (!partitions.includes(task)) continue;
      assignment[topic] = [...(assignment[topic] ?? []), task];
    }
  });
  return out;
}

export const taskAssigner: PartitionAssigner = ({ cluster }) => ({
  name: TASK_ASSIGNER_NAME,
  version: 0,
  async assign({ members, topics }: { members: GroupMember[]; topics: string[] }) {
    const partitionsByTopic = new Map(
      topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]),
    );
    const assignments = assignTasks(
      members.map((m) => m.memberId),
      partitionsByTopic,
    );
    return [...assignments].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }: { topics: string[] }) {
    return {
      name: TASK_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
