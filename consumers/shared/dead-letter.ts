import type { KafkaMessage, Producer } from 'kafkajs';
import { sendWithinLimits, type TopicLimits } from '../../common/kafka-limits.ts';
import { DEAD_LETTER_STAGES, type DeadLetterStage, deadLetter } from '../../contracts/dead-letter.ts';
import { dlqTopicOf } from '../../contracts/topology.ts';

/** A message that cannot be processed, with where it came from, why, and which step refused it. */
export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  reason: string;
  /** VALUE_CONVERTER when it cannot be decoded, TASK_PUT when the store cannot take it */
  stage: DeadLetterStage;
  /** the class of the error that refused it, when an error did */
  errorClass?: string;
}

/** A decoded record the store refuses (bronze: Postgres would reject a value; sinks: not storable). */
export function refusedLetter(
  at: { topic: string; partition: number; message: KafkaMessage },
  err: unknown,
): DeadLetter {
  const e = err as Error;
  return {
    ...at,
    reason: `cannot be stored: ${e.message}`,
    stage: DEAD_LETTER_STAGES.refused,
    errorClass: e.name,
  };
}

export interface DeadLetterQueue {
  /** Resolves once every letter is acknowledged by all in-sync replicas. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * Sends messages that cannot be processed to `dlq.<topic>` unchanged (key, value, headers) with the
 * dead-letter headers of contracts/dead-letter.ts (where from, the group, the stage, why), so they
 * can be inspected and replayed. Callers send before committing the source offset: a crash in
 * between re-sends the letter (at-least-once; duplicates name the same source position) but never
 * loses it.
 */
export function createDeadLetterQueue(deps: {
  producer: Producer;
  groupId: string;
  /** max.message.bytes of the dead-letter topics (a chunk of letters may exceed one request) */
  limits: TopicLimits;
}): DeadLetterQueue {
  return {
    async send(letters) {
      if (letters.length === 0) return;
      const byTopic = new Map<string, DeadLetter[]>();
      for (const l of letters) {
        const dlq = dlqTopicOf(l.topic);
        const list = byTopic.get(dlq);
        if (list) list.push(l);
        else byTopic.set(dlq, [l]);
      }
      const batches = [...byTopic].map(([topic, ls]) => ({
        topic,
        messages: ls.map((l) =>
          deadLetter({
            message: l.message,
            from: { topic: l.topic, partition: l.partition, offset: l.message.offset },
            reason: l.reason,
            stage: l.stage,
            writer: deps.groupId,
            errorClass: l.errorClass,
          }),
        ),
      }));
      await sendWithinLimits(deps.limits, batches, (topicMessages) =>
        deps.producer.sendBatch({ acks: -1, topicMessages }),
      );
    },
  };
}
