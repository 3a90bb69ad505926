import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { testInfra, testLogger, uniqueName } from './infra.ts';

/** Kafka helpers for integration tests. Every function closes what it opens. */

export async function createTopics(
  admin: Admin,
  topics: Array<{ topic: string; partitions?: number; compact?: boolean }>,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions ?? 3,
      configEntries: t.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    })),
  });
  // kafkajs' own wait (waitForLeaders) fails on UNKNOWN_TOPIC_OR_PARTITION ("This server does not
  // host this topic-partition") while a loaded broker is still propagating new topics.
  const names = topics.map((t) => t.topic);
  await waitFor(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      return meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    },
    { timeoutMs: 60_000, what: `leaders for ${names.join(', ')}` },
  );
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  message: KafkaMessage;
  /** Avro-decoded value when a registry was given and the value decodes; else undefined */
  value?: unknown;
}

/**
 * Reads topics from the beginning with a fresh read_committed consumer until `done(records)` holds
 * (or the deadline passes), then closes the consumer and deletes its group.
 */
export async function consumeUntil(
  kafka: Kafka,
  topics: string[],
  done: (records: ConsumedRecord[]) => boolean,
  opts: { registry?: SchemaRegistry; timeoutMs?: number } = {},
): Promise<ConsumedRecord[]> {
  const groupId = uniqueName('test-reader');
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  const records: ConsumedRecord[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const decoded = await Promise.all(
          batch.messages.map(async (m) =>
            opts.registry && m.value ? await opts.registry.decode(m.value).catch(() => undefined) : undefined,
          ),
        );
        batch.messages.forEach((m, i) => {
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString() ?? null,
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
            message: m,
            value: decoded[i],
          });
        });
      },
    });
    await waitFor(() => done(records), {
      timeoutMs: opts.timeoutMs ?? 90_000,
      intervalMs: 250,
      what: `records on ${topics.join(', ')} (have ${records.length})`,
    });
    return records;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}

/** The committed offsets of `groupId` have reached the end of every partition of `topics`. */
export async function groupCaughtUp(admin: Admin, groupId: string, topics: string[]): Promise<boolean> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const t of committed) {
    const ends = await admin.fetchTopicOffsets(t.topic);
    for (const end of ends) {
      const c = t.partitions.find((p) => p.partition === end.partition);
      const at = c && c.offset !== '-1' ? BigInt(c.offset) : BigInt(end.low);
      // The end offset counts transaction markers, so "caught up" is within one marker of the end.
      if (BigInt(end.high) - at > 1n) return false;
    }
  }
  return true;
}

/**
 * The Kafka clients of one test file: a client named after the file, a connected admin (connected
 * before the tests, disconnected after) and a registry client. Call at the top of a describe.
 */
export function useKafkaClients(name: string): { kafka: Kafka; admin: Admin; registry: SchemaRegistry } {
  const infra = testInfra();
  const kafka = createKafka(infra.kafka, uniqueName(name), testLogger);
  const admin = kafka.admin();
  const registry = createSchemaRegistry(infra.registry);
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());
  return { kafka, admin, registry };
}
