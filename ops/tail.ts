import { randomUUID } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { TributaryError } from '../common/errors.ts';
import { type ReadableRecord, readableRecord } from './decode.ts';

/**
 * `tributary tail <topic>`: follows a topic and hands each record, decoded, to `onRecord` until
 * `max` records were seen or the signal aborts (Ctrl-C). Reads committed records only, with a
 * throw-away group that commits nothing and is deleted at the end, so tailing never moves anyone's
 * offsets.
 */
export async function tailTopic(
  deps: { kafka: Kafka; admin: Admin; registry: Pick<SchemaRegistry, 'decode'> },
  opts: {
    topic: string;
    fromBeginning: boolean;
    max?: number;
    onRecord: (r: ReadableRecord) => void;
    signal: AbortSignal;
  },
): Promise<number> {
  if (!(await deps.admin.listTopics()).includes(opts.topic)) {
    throw new TributaryError(`topic ${opts.topic} does not exist`, {
      fix: 'tributary status lists the topics',
    });
  }
  const groupId = `tributary-ops-tail-${randomUUID()}`;
  const consumer = deps.kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
  });
  let seen = 0;
  let failure: unknown;
  const finished = new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    opts.signal.addEventListener('abort', () => resolve(), { once: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return; // kafkajs goes on after a retriable crash
      failure = payload.error;
      resolve();
    });
    void (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, isRunning }) => {
          for (const message of batch.messages) {
            if (!isRunning() || (opts.max !== undefined && seen >= opts.max)) return;
            opts.onRecord(await readableRecord(deps.registry, batch.topic, batch.partition, message));
            seen++;
            if (opts.max !== undefined && seen >= opts.max) resolve();
          }
        },
      });
    })().catch((err) => {
      failure = err;
      resolve();
    });
  });
  try {
    await finished;
    if (failure) throw failure;
    return seen;
  } finally {
    await consumer.disconnect().catch(() => {});
    await deps.admin.deleteGroups([groupId]).catch(() => {});
  }
}
