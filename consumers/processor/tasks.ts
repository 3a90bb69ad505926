import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';

/**
 * Zombie fencing, the way Kafka Streams did it before KIP-447 ("EOS alpha"): one transactional
 * producer per task (a task = an input partition number, the same in both raw topics and the
 * changelog), transactional id `<group>.task-<p>`. kafkajs commits offsets in a transaction
 * without the group metadata of KIP-447, so the broker cannot tell a zombie (an instance that lost
 * its partitions, e.g. paused, and runs on) from the owner by its group generation. It can by the
 * transactional id: the instance the group gives task p initialises `<group>.task-<p>` before it
 * reads anything of p, which bumps the producer epoch, aborts the zombie's open transaction and
 * refuses every later request of the zombie's producer for p (INVALID_PRODUCER_EPOCH).
 *
 * A producer is opened when its task is first needed in a group session and dropped when the task
 * goes (reassigned, fenced, a failed transaction, a crash). It is never re-opened on its own: only
 * an instance the group (still) gives the task may initialise its id, or it would fence the owner.
 */
export const taskTransactionalId = (groupId: string, partition: number): string =>
  `${groupId}.task-${partition}`;

export interface TaskProducers {
  get(partition: number): Producer | undefined;
  /** opens (connects and initialises: fences any other holder of the id) the task's producer */
  open(partition: number): Promise<Producer>;
  /** disconnects the task's producer (in the background; it has no transaction open) */
  drop(partition: number): void;
  dropAll(): void;
  partitions(): number[];
  /** disconnects every producer and waits for it */
  close(): Promise<void>;
}

export function createTaskProducers(deps: { kafka: Kafka; groupId: string; logger: Logger }): TaskProducers {
  const producers = new Map<number, Producer>();
  const closing = new Set<Promise<void>>();

  function disconnect(partition: number, producer: Producer): void {
    const done: Promise<void> = producer
      .disconnect()
      .catch((err) => deps.logger.warn({ partition, err: describeError(err) }, 'task producer did not close'))
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  return {
    get: (partition) => producers.get(partition),
    async open(partition) {
      const old = producers.get(partition);
      if (old) disconnect(partition, old);
      const producer = deps.kafka.producer({
        transactionalId: taskTransactionalId(deps.groupId, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        // kafkajs' default since 2.0, spelled out: it warns on every producer otherwise
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producers.set(partition, producer);
      try {
        await producer.connect();
        // kafkajs runs InitProducerId on the first transaction(); an empty one ends without a request.
        const init = await producer.transaction();
        await init.abort();
      } catch (err) {
        producers.delete(partition);
        disconnect(partition, producer);
        throw err;
      }
      return producer;
    },
    drop(partition) {
      const producer = producers.get(partition);
      if (!producer) return;
      producers.delete(partition);
      disconnect(partition, producer);
    },
    dropAll() {
      for (const [partition, producer] of producers) disconnect(partition, producer);
      producers.clear();
    },
    partitions: () => [...producers.keys()],
    async close() {
      this.dropAll();
      await Promise.all([...closing]);
    },
  };
}

/**
 * Whether a transaction was refused because another producer holds the task's id now (or the
 * coordinator aborted ours after the transaction timeout and bumped the epoch). kafkajs 2.2.4 knows
 * INVALID_PRODUCER_EPOCH (47) but not PRODUCER_FENCED (90), which it reports as an unknown code.
 */
export function isFenced(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const x = e as { type?: string; message?: string; cause?: unknown; originalError?: unknown };
    if (x.type === 'INVALID_PRODUCER_EPOCH' || x.type === 'PRODUCER_FENCED') return true;
    if (/Unknown error code 90\b/.test(x.message ?? '')) return true;
    e = x.originalError ?? x.cause;
  }
  return false;
}

/** Initialises a transactional id once (fencing its holder and aborting its open transaction). */
export async function initialiseOnce(kafka: Kafka, transactionalId: string): Promise<void> {
  const producer = kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await producer.connect();
    const init = await producer.transaction();
    await init.abort();
  } finally {
    await producer.disconnect();
  }
}
