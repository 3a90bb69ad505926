import { type Kafka, Partitioners, type Producer, type RecordMetadata, type TopicMessages } from 'kafkajs';
import { sendWithinLimits, type TopicLimits } from '../common/kafka-limits.ts';

/**
 * One Kafka transaction per page: the page's records, its dead-letter records and the poller's new
 * state are committed together or not at all. Built on the kafkajs transactional producer
 * (idempotent, one request in flight, a stable transactional id per poller).
 *
 * A committer is single-use across failures: after any error its outcome is unknown (a commit may
 * have reached the broker before the connection dropped), so the poller closes it, opens a new one
 * (which fences the old producer epoch) and re-reads its committed state.
 */
export interface PageCommitter {
  /**
   * Connects and initialises transactions. InitProducerId with this transactional id bumps the
   * epoch: an older incarnation (a zombie) is fenced and its open transaction is aborted before
   * this returns, so a state read afterwards sees everything it committed and nothing else.
   */
  open(): Promise<void>;
  /**
   * Sends the messages in one transaction, in as many requests as the topics' size limits need,
   * then the messages `last` builds from where the first ones landed (the poller's state, which
   * records the offsets), and commits; aborts (best effort) and throws on error.
   */
  commit(
    batches: TopicMessages[],
    last: (sent: RecordMetadata[]) => TopicMessages,
    hooks?: { beforeCommit?: () => void },
  ): Promise<void>;
  /** disconnects; safe to call more than once */
  close(): Promise<void>;
}

export function createPageCommitter(deps: {
  kafka: Kafka;
  transactionalId: string;
  transactionTimeoutMs: number;
  /** max.message.bytes of the topics, read from the cluster */
  limits: TopicLimits;
}): PageCommitter {
  let producer: Producer | undefined;
  let closed: Promise<void> | undefined;

  return {
    async open() {
      producer = deps.kafka.producer({
        transactionalId: deps.transactionalId,
        transactionTimeout: deps.transactionTimeoutMs,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // The Java-compatible murmur2 partitioner: raw topics are co-partitioned with topics that
        // other clients write by workspace id.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      // kafkajs runs InitProducerId (with the transactional id) on the first transaction() call; an
      // empty transaction ends locally without a request.
      const init = await producer.transaction();
      await init.abort();
    },

    async commit(batches, last, hooks) {
      const p = producer;
      if (!p) throw new Error('page committer used before open()');
      const tx = await p.transaction();
      try {
        const sent: RecordMetadata[] = [];
        const send = async (topicMessages: TopicMessages[]) => {
          sent.push(...(await tx.sendBatch({ topicMessages })));
        };
        await sendWithinLimits(deps.limits, batches, send);
        await sendWithinLimits(deps.limits, [last(sent)], send);
        hooks?.beforeCommit?.();
        await tx.commit();
      } catch (err) {
        if (tx.isActive()) await tx.abort().catch(() => {}); // best effort: the caller replaces this committer
        throw err;
      }
    },

    close() {
      closed ??= producer ? producer.disconnect().catch(() => {}) : Promise.resolve();
      return closed;
    },
  };
}
