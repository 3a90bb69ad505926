import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import { JoinState } from './join-state.ts';

/**
 * The processor's state is kept in a compacted changelog topic, one partition per input partition,
 * written in the same transaction as the gold output and the consumed offsets, so after any crash
 * the changelog holds exactly the state that matches the committed offsets.
 *
 * Keys: `w:<workspace id>` and `j:<job id>`, values the latest record as JSON.
 */
const BARRIER_KEY = '__barrier__';

export const workspaceEntry = (ws: Workspace, partition: number): Message & { partition: number } => ({
  key: `w:${ws.id}`,
  value: JSON.stringify(ws),
  partition,
});
export const jobEntry = (job: EnrichmentJob, partition: number): Message & { partition: number } => ({
  key: `j:${job.id}`,
  value: JSON.stringify(job),
  partition,
});

/**
 * Rebuilds the state of the given partitions from the changelog.
 *
 * How we know we have read everything: we first commit, through each partition's task producer, a
 * transaction that writes a unique barrier record into the partition, then read until each partition's barrier comes back. That is robust
 * to transaction markers and to open transactions of a fenced predecessor, which make "read up to
 * the end offset" unreliable.
 *
 * An interrupted restore fails instead of waiting forever: when its consumer crashes and kafkajs
 * will not restart it, or when the processor's own heartbeat fails (its group is rebalancing, or
 * it was dropped from it). The error is the heartbeat's own, so kafkajs sees the rebalance and
 * rejoins; nothing of a partial restore is kept.
 */
export async function restoreState(deps: {
  kafka: Kafka;
  admin: Admin;
  /** the transactional producer of each partition's task (consumers/processor/tasks.ts) */
  producerFor: (partition: number) => Producer;
  topic: string;
  partitions: number[];
  groupPrefix: string;
  heartbeat: () => Promise<void>;
}): Promise<Map<number, JoinState>> {
  const token = randomUUID();
  const states = new Map(deps.partitions.map((p) => [p, new JoinState()]));
  // Each barrier goes through its task's producer: a zombie's restore is refused like its batches.
  for (const partition of deps.partitions) {
    const tx = await deps.producerFor(partition).transaction();
    try {
      await tx.send({ topic: deps.topic, messages: [{ key: BARRIER_KEY, value: token, partition }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => {}); // best effort: the caller drops this producer
      throw err;
    }
  }

  const groupId = `${deps.groupPrefix}.restore.${token.slice(0, 8)}`;
  const consumer = deps.kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1_048_576 });
  const pending = new Set(deps.partitions);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: deps.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const state = states.get(batch.partition);
            if (!state || !pending.has(batch.partition)) return;
            for (const m of batch.messages) {
              const key = m.key?.toString() ?? '';
              const value = m.value?.toString();
              if (value === undefined) continue;
              if (key.startsWith('w:')) state.restoreWorkspace(JSON.parse(value) as Workspace);
              else if (key.startsWith('j:')) state.restoreJob(JSON.parse(value) as EnrichmentJob);
              else if (key === BARRIER_KEY && value === token) pending.delete(batch.partition);
            }
            if (pending.size === 0) resolve();
            try {
              await deps.heartbeat();
            } catch (err) {
              reject(err); // the processor must rejoin its group before it restores anything
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await deps.admin.deleteGroups([groupId]).catch(() => {}); // a throw-away group with no offsets: a leftover holds nothing and expires with the broker's group retention
  }
  return states;
}
