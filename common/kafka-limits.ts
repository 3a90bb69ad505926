import type { Admin, ConfigResourceTypes, Kafka, Message, TopicMessages } from 'kafkajs';
import { TributaryError } from './errors.ts';

/**
 * Every write Tributary makes must fit the broker's limits, whatever the batch size: the broker
 * refuses a record batch (all records of one partition in one produce request) larger than the
 * topic's `max.message.bytes` (by default the broker's `message.max.bytes`, ~1 MiB), and kafkajs
 * puts everything given to one `send`/`sendBatch` call into one request. A refused request inside a
 * transaction aborts it, and a consumer that retries the same input refuses again forever: the
 * processor wedge of issue 10. So large sends are cut into requests that fit, by a size estimate
 * that never under-counts (no compression is configured anywhere in the project).
 */

/** The record batch header (61 bytes in format v2) plus a margin for varints we do not model. */
/** ConfigResourceTypes.TOPIC: kafkajs' CommonJS exports do not give ESM the enum itself. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

const BATCH_OVERHEAD = 61 + 512;
/** Per record: length, attributes, timestamp/offset deltas, key/value lengths, header count. */
const RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const HEADER_OVERHEAD = 5 + 5;
/** What kafkajs uses when a topic's limit cannot be read (the broker default, 1,048,588 bytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A single record that can never be written to its topic: not retriable, the caller decides. */
export class RecordTooLargeError extends TributaryError {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`a record of ${bytes} bytes does not fit ${topic} (max.message.bytes ${limit})`, {
      retriable: false,
      fix: `raise max.message.bytes of ${topic} (kafka-configs --alter --entity-type topics) or make the record smaller`,
    });
  }
}

function bytesOf(v: Message['key'] | Message['value']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** An upper bound of the bytes `message` takes in an uncompressed record batch. */
export function estimateRecordBytes(message: Message): number {
  let n = RECORD_OVERHEAD + bytesOf(message.key) + bytesOf(message.value);
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    n += HEADER_OVERHEAD + Buffer.byteLength(k);
    for (const part of Array.isArray(v) ? v : [v]) n += bytesOf(part as Buffer | string | undefined);
  }
  return n;
}

/** The most record bytes one request may carry for a topic whose limit is `maxMessageBytes`. */
export function recordBudget(maxMessageBytes: number): number {
  return Math.max(1024, maxMessageBytes - BATCH_OVERHEAD);
}

/**
 * Cuts topic messages into consecutive requests in which every topic's records add up to at most
 * its budget, keeping the order of messages within each topic (and so within each partition).
 * A budget per topic, not per partition, is conservative: kafkajs may spread a topic's records
 * over partitions, and each partition's share is then smaller still. Throws RecordTooLargeError
 * for a single record over its topic's budget.
 */
export function splitIntoRequests(
  batches: readonly TopicMessages[],
  maxMessageBytes: (topic: string) => number,
): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, { messages: Message[]; bytes: number }>();
  const flush = () => {
    if (current.size === 0) return;
    requests.push([...current].map(([topic, t]) => ({ topic, messages: t.messages })));
    current = new Map();
  };
  for (const { topic, messages } of batches) {
    const limit = maxMessageBytes(topic);
    const budget = recordBudget(limit);
    for (const message of messages) {
      const size = estimateRecordBytes(message);
      if (size > budget) throw new RecordTooLargeError(topic, size, limit);
      const entry = current.get(topic);
      if (entry && entry.bytes + size > budget) flush();
      const target = current.get(topic) ?? { messages: [], bytes: 0 };
      target.messages.push(message);
      target.bytes += size;
      current.set(topic, target);
    }
  }
  flush();
  return requests;
}

/** Reads `max.message.bytes` of topics from the cluster, once per topic for the life of the cache. */
export interface TopicLimits {
  /** resolves the limits of these topics (one describeConfigs round trip for the unknown ones) */
  load(topics: Iterable<string>): Promise<void>;
  /** the limit of a loaded topic (the broker default when the cluster did not say) */
  maxMessageBytes(topic: string): number;
}

export function createTopicLimits(deps: { kafka: Kafka } | { admin: Admin }): TopicLimits {
  const known = new Map<string, number>();
  async function describe(admin: Admin, topics: string[]): Promise<void> {
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({
        type: TOPIC_RESOURCE,
        name,
        configNames: ['max.message.bytes'],
      })),
    });
    for (const r of res.resources) {
      const entry = r.configEntries.find((e) => e.configName === 'max.message.bytes');
      const value = Number(entry?.configValue);
      known.set(r.resourceName, Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES);
    }
  }
  return {
    async load(topics) {
      const missing = [...new Set(topics)].filter((t) => !known.has(t));
      if (missing.length === 0) return;
      if ('admin' in deps) return describe(deps.admin, missing);
      const admin = deps.kafka.admin();
      await admin.connect();
      try {
        await describe(admin, missing);
      } finally {
        await admin.disconnect();
      }
    },
    maxMessageBytes(topic) {
      return known.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
    },
  };
}

/**
 * Sends `batches` through `send` (a producer's or a transaction's sendBatch) in as many requests as
 * the topics' limits require, one after the other (so a transaction keeps its order).
 */
export async function sendWithinLimits(
  limits: TopicLimits,
  batches: readonly TopicMessages[],
  send: (topicMessages: TopicMessages[]) => Promise<unknown>,
): Promise<void> {
  const nonEmpty = batches.filter((b) => b.messages.length > 0);
  if (nonEmpty.length === 0) return;
  await limits.load(nonEmpty.map((b) => b.topic));
  for (const request of splitIntoRequests(nonEmpty, (t) => limits.maxMessageBytes(t))) {
    await send(request);
  }
}
