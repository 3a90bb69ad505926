import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Admin, IHeaders, Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { GOLD_MONGO_INDEXES } from '../../consumers/gold-sinks/mongo-sink.ts';
import { consumerConfig } from '../../consumers/shared/consumer-config.ts';

/**
 * Each stage's bare ceiling on the run's own data, measured after the pipeline stopped (so nothing
 * else of the run competes): the fastest the same servers and clients take the same work with
 * none of the pipeline's logic. A stage's rate divided by its ceiling says how much the pipeline's
 * own code costs there.
 */
export interface Ceiling {
  key: 'sourceWalk' | 'consume' | 'produce' | 'copyBronze' | 'copyGold' | 'mongoInsert';
  label: string;
  unit: string;
  count: number;
  ms: number;
}

export const CEILING_LABELS: Record<Ceiling['key'], string> = {
  sourceWalk: 'walk of both source feeds (fetch + JSON, limit 500)',
  consume: 'bare kafkajs consume of the raw topics',
  produce: 'bare kafkajs produce of the raw records',
  copyBronze: 'Postgres COPY of the bronze rows',
  copyGold: 'Postgres COPY of the gold rows',
  mongoInsert: 'MongoDB insertMany of the gold documents',
};

const ceiling = (key: Ceiling['key'], unit: string, count: number, ms: number): Ceiling => ({
  key,
  label: CEILING_LABELS[key],
  unit,
  count,
  ms,
});

/** Both list endpoints followed to their end, as fast as one client can: the pollers' input ceiling. */
export async function sourceWalk(url: string): Promise<Ceiling> {
  const started = performance.now();
  const counts = await Promise.all(
    ['/v1/workspaces', '/v1/enrichment-jobs'].map(async (path) => {
      let n = 0;
      let cursor: string | null = null;
      do {
        const u = new URL(path, url);
        u.searchParams.set('limit', '500');
        if (cursor) u.searchParams.set('cursor', cursor);
        const res = await fetch(u);
        if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
        const page = (await res.json()) as { data: unknown[]; next_cursor: string | null };
        n += page.data.length;
        cursor = page.next_cursor;
      } while (cursor);
      return n;
    }),
  );
  return ceiling('sourceWalk', 'versions', counts[0]! + counts[1]!, performance.now() - started);
}

export interface RawMessage {
  topic: string;
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/**
 * A consumer group reading the raw topics from the start with the bronze writer's fetch size and
 * doing nothing but count (and keep the messages, for the produce ceiling). Timed from the group
 * join, as the pipeline's consumers are, to the end offsets taken before it starts.
 */
export async function bareConsume(deps: {
  kafka: Kafka;
  admin: Admin;
  topics: string[];
  groupId: string;
  maxBytesPerPartition: number;
}): Promise<{ ceiling: Ceiling; messages: RawMessage[] }> {
  const remaining = new Map<string, bigint>();
  for (const topic of deps.topics)
    for (const p of await deps.admin.fetchTopicOffsets(topic))
      if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}/${p.partition}`, BigInt(p.high));
  const messages: RawMessage[] = [];
  const consumer = deps.kafka.consumer(
    consumerConfig(
      deps.groupId,
      { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3000 },
      { maxBytesPerPartition: deps.maxBytesPerPartition },
    ),
  );
  let joinedAt = 0;
  let doneAt = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const reached = (tp: string, next: bigint) => {
    const end = remaining.get(tp);
    if (end !== undefined && next >= end) remaining.delete(tp);
    if (remaining.size === 0 && !doneAt) {
      doneAt = performance.now();
      finish();
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt ||= performance.now();
  });
  // a batch of transaction markers only: no messages, but the partition moved on (common/topic-reader.ts)
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0 && payload.lastOffset != null)
      reached(`${payload.topic}/${payload.partition}`, BigInt(payload.lastOffset) + 1n);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: deps.topics, fromBeginning: true });
    if (remaining.size === 0) finish();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          messages.push({
            topic: batch.topic,
            partition: batch.partition,
            key: m.key,
            value: m.value,
            headers: m.headers,
          });
        reached(`${batch.topic}/${batch.partition}`, BigInt(batch.lastOffset()) + 1n);
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  const ms = (doneAt || performance.now()) - (joinedAt || performance.now());
  return { ceiling: ceiling('consume', 'records', messages.length, ms), messages };
}

/** One plain producer sending the same records to a scratch topic, same partitions, acks=all. */
export async function bareProduce(deps: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partitions: number;
  messages: RawMessage[];
}): Promise<Ceiling> {
  await deps.admin.createTopics({
    topics: [{ topic: deps.topic, numPartitions: deps.partitions }],
    waitForLeaders: true,
  });
  const producer = deps.kafka.producer();
  await producer.connect();
  // well under the broker's 1 MiB default per request, whatever the partition split
  const MAX_BYTES = 512 * 1024;
  try {
    const started = performance.now();
    let batch: Array<{ partition: number; key: Buffer | null; value: Buffer | null; headers?: IHeaders }> =
      [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await producer.send({ topic: deps.topic, acks: -1, messages: batch });
      batch = [];
      bytes = 0;
    };
    for (const m of deps.messages) {
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 200;
      if (bytes + size > MAX_BYTES) await flush();
      batch.push({
        partition: m.partition % deps.partitions,
        key: m.key,
        value: m.value,
        headers: m.headers,
      });
      bytes += size;
    }
    await flush();
    return ceiling('produce', 'records', deps.messages.length, performance.now() - started);
  } finally {
    await producer.disconnect();
  }
}

/**
 * The rows of `tables`, copied out first (untimed), then COPY'd into tables of the same shape
 * (columns, keys, indexes) in the same database: what Postgres takes at best.
 */
export async function copyCeiling(
  pool: pg.Pool,
  key: 'copyBronze' | 'copyGold',
  tables: string[],
): Promise<Ceiling> {
  const client = await pool.connect();
  try {
    let rows = 0;
    let ms = 0;
    for (const table of tables) {
      const [schema, name] = table.split('.') as [string, string];
      const source = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
      const scratch = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(`ceiling_${name}`)}`;
      const chunks: Buffer[] = [];
      const out = client.query(copyTo(`COPY ${source} TO STDOUT`));
      for await (const chunk of out) chunks.push(chunk as Buffer);
      rows += Number((await client.query(`select count(*) as n from ${source}`)).rows[0].n);
      await client.query(`CREATE TABLE ${scratch} (LIKE ${source} INCLUDING ALL)`);
      const started = performance.now();
      await pipeline(Readable.from(chunks), client.query(copyFrom(`COPY ${scratch} FROM STDIN`)));
      ms += performance.now() - started;
    }
    return ceiling(key, 'rows', rows, ms);
  } finally {
    client.release();
  }
}

/** The run's gold documents inserted into a scratch collection with the sink's indexes, unordered. */
export async function mongoInsertCeiling(
  db: Db,
  from: string,
  to: string,
  batchSize: number,
): Promise<Ceiling> {
  const docs = await db.collection(from).find({}).toArray();
  const scratch = db.collection(to);
  await scratch.createIndexes(GOLD_MONGO_INDEXES.map((key) => ({ key: { ...key } })));
  const started = performance.now();
  for (let i = 0; i < docs.length; i += batchSize) {
    await scratch.insertMany(docs.slice(i, i + batchSize), { ordered: false });
  }
  return ceiling('mongoInsert', 'docs', docs.length, performance.now() - started);
}
