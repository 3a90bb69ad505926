import type { Kafka, KafkaMessage } from 'kafkajs';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { describeError, TributaryError } from '../../common/errors.ts';
import { keepConsumerRunning } from '../../common/keep-running.ts';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import type { DeadLetterSource, SummaryRow, WalkStore } from './store.ts';

/**
 * Stores what reconciliation needs from Kafka: the walk summaries (producers/walks.ts) and, from the
 * raw dead-letter topics, the letters bronze wrote (they carry the raw record's position,
 * `__connect.errors.topic/partition/offset` or on older letters `tributary-dlq-source`; the
 * poller's own letters have none and are counted in its summaries). One durable group,
 * read_committed, from the beginning; offsets are committed after the rows are in Postgres and the
 * inserts ignore duplicates, so a redelivery changes nothing.
 */
const Hwm = Type.Union([Type.Null(), Type.Object({ updatedAt: Type.Number(), id: Type.String() })]);
const Count = Type.Integer({ minimum: 0 });
export const WalkSummarySchema = Type.Object({
  v: Type.Literal(1),
  walkId: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
  api: Type.String({ minLength: 1 }),
  rawTopic: Type.String({ minLength: 1 }),
  dlqTopic: Type.String({ minLength: 1 }),
  startedAt: Type.Number(),
  endedAt: Type.Number(),
  outcome: Type.Union([Type.Literal('complete'), Type.Literal('stopped'), Type.Literal('failed')]),
  startCursor: Type.Union([Type.Null(), Type.String()]),
  startHwm: Hwm,
  endHwm: Hwm,
  pages: Count,
  served: Count,
  duplicates: Count,
  published: Count,
  deadLettered: Count,
  rawOffsets: Type.Array(
    Type.Object({
      partition: Count,
      first: Type.String({ pattern: '^\\d+$' }),
      last: Type.String({ pattern: '^\\d+$' }),
    }),
  ),
});

/** A summary record → its row, or undefined when it is not one (logged by the caller). */
export function summaryRow(message: KafkaMessage, partition: number): SummaryRow | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message.value?.toString() ?? '');
  } catch {
    return undefined;
  }
  if (!Value.Check(WalkSummarySchema, value)) return undefined;
  const { startHwm: _, ...s } = value;
  return { ...s, partition, offset: message.offset };
}

/** A bronze dead letter's source position (`<topic>/<partition>/<offset>`), or undefined. */
export function deadLetterSource(
  dlqTopic: string,
  dlqPartition: number,
  message: KafkaMessage,
): DeadLetterSource | undefined {
  const letter = readDeadLetter(message.headers);
  if (!letter.from) return undefined;
  return {
    dlqTopic,
    dlqPartition,
    dlqOffset: message.offset,
    sourceTopic: letter.from.topic,
    sourcePartition: letter.from.partition,
    sourceOffset: letter.from.offset,
    reason: letter.reason,
  };
}

export interface WalkIngest {
  close(): Promise<void>;
}

export async function startWalkIngest(deps: {
  kafka: Kafka;
  store: WalkStore;
  walksTopic: string;
  dlqTopics: readonly string[];
  groupId: string;
  logger: Logger;
  liveness?: Liveness;
}): Promise<WalkIngest> {
  const { logger, store } = deps;
  const topics = [deps.walksTopic, ...deps.dlqTopics];
  const kept = keepConsumerRunning({
    groupId: deps.groupId,
    topics,
    logger,
    probe: deps.liveness?.probe(`walk summaries (${deps.walksTopic})`),
    create: () =>
      deps.kafka.consumer({ groupId: deps.groupId, readUncommitted: false, allowAutoTopicCreation: false }),
    run: async (consumer) => {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        // commits after each batch that returned: the rows are in Postgres by then
        eachBatch: async ({ batch }) => {
          if (batch.topic === deps.walksTopic) {
            for (const message of batch.messages) {
              const row = summaryRow(message, batch.partition);
              if (row) await store.insertSummary(row);
              else logger.warn({ topic: batch.topic, offset: message.offset }, 'not a walk summary; skipped');
            }
          } else {
            const letters = batch.messages
              .map((m) => deadLetterSource(batch.topic, batch.partition, m))
              .filter((l): l is DeadLetterSource => l !== undefined);
            await store.insertDeadLetters(letters);
          }
        },
      });
    },
  });
  try {
    await kept.start();
  } catch (err) {
    await kept.close().catch(() => undefined); // the start failure is what the caller needs to see
    throw new TributaryError(`cannot read the walk summaries (${topics.join(', ')}): ${describeError(err)}`, {
      retriable: true,
      cause: err,
      fix: 'run `tributary infra up` (it creates the pipeline topics) or set TRIBUTARY_WALKS_TOPIC',
    });
  }
  return { close: () => kept.close() };
}
