import { randomUUID } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { TributaryError } from '../common/errors.ts';
import { kafkaSideCrash, keepConsumerRunning } from '../common/keep-running.ts';
import { type Logger, silentLogger } from '../common/logger.ts';
import { type ReadableRecord, readableRecord } from './decode.ts';

/**
 * `tributary tail <topic>`: follows a topic and hands each record, decoded, to `onRecord` until
 * `max` records were seen or the signal aborts (Ctrl-C). Reads committed records only, with a
 * throw-away group that commits nothing and is deleted at the end, so tailing never moves anyone's
 * offsets.
 */
export async function tailTopic(
  deps: { kafka: Kafka; admin: Admin; registry: Pick<SchemaRegistry, 'decode'>; logger?: Logger },
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
  let seen = 0;
  let failure: unknown;
  let stopTail: () => void = () => undefined;
  /** the next offset per partition, so a restarted consumer goes on where the last one was */
  const next = new Map<number, string>();
  // kafkajs restarts the consumer after a retriable crash, keepConsumerRunning after a Kafka-side
  // one kafkajs gives up on; a crash of our own (decoding, printing) ends the tail.
  const kept = keepConsumerRunning({
    groupId,
    topics: [opts.topic],
    logger: deps.logger ?? silentLogger(),
    backoff: { minDelayMs: 250, maxDelayMs: 5000 },
    shouldRestart: kafkaSideCrash,
    onCrash: (err, restartedByKafkajs) => {
      if (restartedByKafkajs || kafkaSideCrash(err)) return;
      failure = err;
      stopTail();
    },
    create: () =>
      deps.kafka.consumer({
        groupId,
        readUncommitted: false,
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
      }),
    run: async (consumer) => {
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, isRunning }) => {
          for (const message of batch.messages) {
            if (!isRunning() || (opts.max !== undefined && seen >= opts.max)) return;
            opts.onRecord(await readableRecord(deps.registry, batch.topic, batch.partition, message));
            next.set(batch.partition, (BigInt(message.offset) + 1n).toString());
            seen++;
            if (opts.max !== undefined && seen >= opts.max) stopTail();
          }
        },
      });
      for (const [partition, offset] of next) consumer.seek({ topic: opts.topic, partition, offset });
    },
  });
  const finished = new Promise<void>((resolve) => {
    stopTail = resolve;
    if (opts.signal.aborted) resolve();
    opts.signal.addEventListener('abort', () => resolve(), { once: true });
    kept.start().catch((err) => {
      failure = err;
      resolve();
    });
  });
  try {
    await finished;
    if (failure) throw failure;
    return seen;
  } finally {
    await kept.close().catch(() => {}); // the tail's own outcome is what the caller needs
    await deps.admin.deleteGroups([groupId]).catch(() => {}); // a leftover empty group expires by itself
  }
}
