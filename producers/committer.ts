import { type Kafka, Partitioners, type Producer, type RecordMetadata, type TopicMessages } from 'kafkajs';
import { TributaryError } from '../common/errors.ts';
import { sendWithinLimits, type TopicLimits } from '../common/kafka-limits.ts';

/**
 * The broker refused this producer's transaction because another producer initialised the same
 * transactional id since: the poller's API was given to another process (or something outside the
 * pollers' group writes with that id). Not retriable by this producer: it stays fenced for good.
 */
export class ProducerFencedError extends TributaryError {
  constructor(
    readonly transactionalId: string,
    cause: unknown,
  ) {
    super(
      `another producer initialised transactional id ${transactionalId}: this one is fenced, its open transaction was aborted`,
      { retriable: false, cause },
    );
  }
}

/** Kafka's answers to a producer whose epoch is no longer current (47 INVALID_PRODUCER_EPOCH, 90 PRODUCER_FENCED). */
export function isFencedError(err: unknown): boolean {
  for (
    let e = err as { type?: string; code?: number; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e instanceof ProducerFencedError) return true;
    if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.code === 47 || e.code === 90)
      return true;
  }
  return false;
}

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
      const began = Date.now();
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
        if (tx.isActive()) await tx.abort().catch(() => {}); // the commit's own error is what matters
        // The broker also bumps the epoch of a transaction it expired (open longer than its
        // timeout): that one is this producer's own doing, an ordinary failure, not a takeover.
        if (isFencedError(err) && Date.now() - began < deps.transactionTimeoutMs)
          throw new ProducerFencedError(deps.transactionalId, err);
        throw err;
      }
    },

    close() {
      closed ??= producer
        ? producer
            .disconnect()
            .catch(
              () => {},
            ) /* a closing producer: its transaction outcome was already reported by commit() */
        : Promise.resolve();
      return closed;
    },
  };
}
