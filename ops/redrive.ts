import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Consumer, type Kafka, type Message, Partitioners } from 'kafkajs';
import { describeError, RemoteError, TributaryError } from '../common/errors.ts';
import { createTopicLimits, sendWithinLimits } from '../common/kafka-limits.ts';
import { kafkaSideCrash, keepConsumerRunning } from '../common/keep-running.ts';
import { type Logger, silentLogger } from '../common/logger.ts';
import { registerValueSchema } from '../common/registry.ts';
import { tpKey } from '../common/topic-reader.ts';
import { waitFor } from '../common/wait-for.ts';
import type { SchemaName } from '../schemas/index.ts';
import { decideRedrive, type RedriveContext } from './redrive-record.ts';
import { assertNoMembers } from './replay.ts';

/**
 * `tributary dlq redrive <topic>`: puts dead-lettered records back on the topic they came from, after
 * the fix that makes them pass. Exactly once across runs: the dead-letter topic is consumed by its own
 * group (`tributary.dlq-redrive.<topic>`), and per batch ONE Kafka transaction holds the re-injected
 * records AND that group's offsets (sendOffsets), so a record is re-injected once whatever crashes
 * and however often redrive runs. Records that still do not pass are reported and left where they
 * are (the group moves past them; see ops/README.md for redriving them later).
 *
 * Each run handles the records that were in the topic when it started, then returns.
 */
export interface RedriveReport {
  dlqTopic: string;
  group: string;
  /** records looked at in this run */
  read: number;
  reinjected: number;
  /** re-injected records per target topic */
  byTopic: Record<string, number>;
  left: Array<{ partition: number; offset: string; topic: string | null; reasons: string[] }>;
}

export const redriveGroup = (dlqTopic: string) => `tributary.dlq-redrive.${dlqTopic}`;

export async function redriveDlq(
  deps: { kafka: Kafka; admin: Admin; registry: SchemaRegistry; logger?: Logger },
  ctx: RedriveContext & { timeoutMs?: number; batchSize?: number },
): Promise<RedriveReport> {
  const { kafka, admin, registry } = deps;
  const group = redriveGroup(ctx.dlqTopic);
  if (!(await admin.listTopics()).includes(ctx.dlqTopic)) {
    throw new TributaryError(`topic ${ctx.dlqTopic} does not exist`, {
      fix: 'tributary dlq list shows the DLQ topics',
    });
  }
  await assertNoMembers(admin, group).catch((err) => {
    throw new TributaryError(`another redrive of ${ctx.dlqTopic} is running (${(err as Error).message})`, {
      retriable: true,
    });
  });
  const report: RedriveReport = {
    dlqTopic: ctx.dlqTopic,
    group,
    read: 0,
    reinjected: 0,
    byTopic: {},
    left: [],
  };

  // This run's work: from the group's committed offsets to the ends as they are now.
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(ctx.dlqTopic),
    admin.fetchOffsets({ groupId: group, topics: [ctx.dlqTopic] }),
  ]);
  const pending = new Map<string, { next: bigint; end: bigint }>();
  for (const e of ends) {
    const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
    const next = c === '-1' || BigInt(c) < BigInt(e.low) ? BigInt(e.low) : BigInt(c);
    if (next < BigInt(e.high)) pending.set(tpKey(ctx.dlqTopic, e.partition), { next, end: BigInt(e.high) });
  }
  if (pending.size === 0) return report;

  const schemaIds = new Map<string, number>();
  const encode = async (topic: string, schema: SchemaName, record: unknown) => {
    let id = schemaIds.get(topic);
    if (id === undefined) {
      id = await registerValueSchema(registry, topic, schema);
      schemaIds.set(topic, id);
    }
    return registry.encode(id, record);
  };

  // A stable transactional id: a redrive that crashed mid-transaction is fenced, and its
  // transaction aborted, when the next one starts.
  const producer = kafka.producer({
    transactionalId: group,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const limits = createTopicLimits({ kafka });
  let failure: unknown;
  const advance = (partition: number, next: bigint) => {
    const key = tpKey(ctx.dlqTopic, partition);
    const p = pending.get(key);
    if (!p) return;
    if (next > p.next) p.next = next;
    if (p.next >= p.end) pending.delete(key);
  };
  // kafkajs restarts the consumer after a retriable crash (e.g. a broker timeout under load), and
  // keepConsumerRunning after a Kafka-side one kafkajs gives up on; the group's committed offsets
  // say where to go on. A crash of our own (encoding, a bug) ends the redrive.
  const kept = keepConsumerRunning({
    groupId: group,
    topics: [ctx.dlqTopic],
    logger: deps.logger ?? silentLogger(),
    backoff: { minDelayMs: 250, maxDelayMs: 5000 },
    shouldRestart: kafkaSideCrash,
    onCrash: (err, restartedByKafkajs) => {
      if (!restartedByKafkajs && !kafkaSideCrash(err)) failure = err;
    },
    create: () =>
      kafka.consumer({
        groupId: group,
        readUncommitted: false,
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
      }),
    run,
  });

  async function run(consumer: Consumer): Promise<void> {
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.lastOffset != null)
        advance(payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: ctx.dlqTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, pause }) => {
        const p = pending.get(tpKey(batch.topic, batch.partition));
        if (!p) {
          pause();
          return;
        }
        const mine = batch.messages.filter((m) => BigInt(m.offset) >= p.next && BigInt(m.offset) < p.end);
        const size = ctx.batchSize ?? 500;
        for (let i = 0; i < mine.length; i += size) {
          const chunk = mine.slice(i, i + size);
          const out = new Map<string, Message[]>();
          const left: RedriveReport['left'] = [];
          for (const m of chunk) {
            const d = decideRedrive(ctx, batch.partition, m);
            if (d.action === 'leave') {
              left.push({ partition: batch.partition, offset: m.offset, topic: d.topic, reasons: d.reasons });
              continue;
            }
            const value = d.action === 'encode' ? await encode(d.topic, d.schema, d.record) : d.value;
            const list = out.get(d.topic) ?? [];
            list.push({ key: d.key, value, headers: d.headers });
            out.set(d.topic, list);
          }
          const next = BigInt(chunk.at(-1)!.offset) + 1n;
          const tx = await producer.transaction();
          try {
            await sendWithinLimits(
              limits,
              [...out].map(([topic, messages]) => ({ topic, messages })),
              (topicMessages) => tx.sendBatch({ topicMessages }),
            );
            await tx.sendOffsets({
              consumerGroupId: group,
              topics: [
                { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next.toString() }] },
              ],
            });
            await tx.commit();
          } catch (err) {
            // the batch's own error is what the caller must see; a transaction that cannot be aborted
            // is aborted by the broker at its timeout, or fenced by the next redrive
            await tx
              .abort()
              .catch((abortErr: unknown) =>
                deps.logger?.warn(
                  { err: describeError(abortErr) },
                  'redrive: aborting the transaction failed',
                ),
              );
            throw err;
          }
          report.read += chunk.length;
          report.left.push(...left);
          for (const [topic, messages] of out) {
            report.byTopic[topic] = (report.byTopic[topic] ?? 0) + messages.length;
            report.reinjected += messages.length;
          }
          advance(batch.partition, next);
          await heartbeat();
        }
        // Records past this run's end are left for the next run; markers before it count as done.
        const last = BigInt(batch.lastOffset()) + 1n;
        advance(batch.partition, last < p.end ? last : p.end);
      },
    });
  }

  try {
    await producer.connect();
    await kept.start();
    await waitFor(
      () => {
        if (pending.size === 0) return true;
        if (failure) throw failure;
        return false;
      },
      { timeoutMs: ctx.timeoutMs ?? 120_000, intervalMs: 100, what: `the redrive of ${ctx.dlqTopic}` },
    ).catch((err) => {
      throw new RemoteError(
        `redrive of ${ctx.dlqTopic} did not finish: ${(err as Error).message}`,
        undefined,
        {
          retriable: true,
          cause: err,
        },
      );
    });
    return report;
  } finally {
    await kept.close().catch(() => {}); // the redrive's own outcome is what the caller needs
    await producer.disconnect().catch(() => {}); // an unfinished transaction is aborted by the next run
  }
}
