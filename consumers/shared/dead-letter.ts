import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { sendWithinLimits, type TopicLimits } from '../../common/kafka-limits.ts';
import { dlqTopicOf } from '../../contracts/topology.ts';

/** A message that cannot be processed, with where it came from and why. */
export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  reason: string;
}

export const DLQ_REASON_HEADER = 'tributary-dlq-reason';
export const DLQ_SOURCE_HEADER = 'tributary-dlq-source';
export const DLQ_GROUP_HEADER = 'tributary-dlq-group';

export interface DeadLetterQueue {
  /** Resolves once every letter is acknowledged by all in-sync replicas. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * Sends undecodable messages to `dlq.<topic>` unchanged (key, value, headers) plus headers saying
 * why and from where (`<topic>/<partition>/<offset>`), so they can be inspected and replayed.
 * Callers send before committing the source offset: a crash in between re-sends the letter
 * (at-least-once; duplicates carry the same tributary-dlq-source) but never loses it.
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
        messages: ls.map((l) => ({
          key: l.message.key,
          value: l.message.value,
          headers: {
            ...copyHeaders(l.message.headers),
            [DLQ_REASON_HEADER]: l.reason,
            [DLQ_SOURCE_HEADER]: `${l.topic}/${l.partition}/${l.message.offset}`,
            [DLQ_GROUP_HEADER]: deps.groupId,
          },
        })),
      }));
      await sendWithinLimits(deps.limits, batches, (topicMessages) =>
        deps.producer.sendBatch({ acks: -1, topicMessages }),
      );
    },
  };
}

function copyHeaders(headers: IHeaders | undefined): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
