import { randomUUID } from 'node:crypto';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { type TopicLifecycleOptions, untilDone, waitForTopicsReady } from '../common/topic-admin.ts';

/**
 * A fresh broker creates its internal topics (__consumer_offsets, __transaction_state) on the first
 * FindCoordinator, i.e. when the first group joins or the first transactional producer starts. On a
 * loaded machine that creation can outlast a client's retries, and it would happen in the middle of
 * the first role's (or test's) start. `infra up` makes it happen here instead, and returns once both
 * topics are usable like the pipeline's own. Local brokers only: on an external cluster the client
 * may have no right to a transactional id of its own, and the topics exist long since.
 */
export const WARMUP_ID = 'tributary.infra-warmup';
const OFFSETS = '__consumer_offsets';
const TRANSACTIONS = '__transaction_state';

export async function warmCoordinators(
  kafka: Kafka,
  admin: Admin,
  opts: TopicLifecycleOptions = {},
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  // FindCoordinator(group) creates __consumer_offsets; the group itself is never created.
  // COORDINATOR_NOT_AVAILABLE while it is created is retriable: retried until the deadline.
  if (!existing.has(OFFSETS))
    await untilDone(`creating ${OFFSETS}`, [OFFSETS], opts, async () => {
      await admin.describeGroups([WARMUP_ID]);
    });
  if (!existing.has(TRANSACTIONS))
    await untilDone(`creating ${TRANSACTIONS}`, [TRANSACTIONS], opts, () => initTransactions(kafka));
  await waitForTopicsReady(admin, [{ topic: OFFSETS }, { topic: TRANSACTIONS }], opts);
}

async function initTransactions(kafka: Kafka): Promise<void> {
  // InitProducerId needs the transaction coordinator: FindCoordinator(transaction) creates
  // __transaction_state. A transactional id of its own, so that two `infra up` at once never
  // fence each other; the empty transaction is aborted at once.
  const producer = kafka.producer({
    transactionalId: `${WARMUP_ID}.${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    // kafkajs' default partitioner, spelled out: it warns on every producer otherwise
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    await tx.abort();
  } finally {
    await producer.disconnect();
  }
}
