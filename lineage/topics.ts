import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Kafka, type KafkaMessage, Partitioners, type PartitionMetadata } from 'kafkajs';
import { type OffsetRange, readRanges } from '../common/topic-reader.ts';
import { positionText, readDeadLetter } from '../contracts/dead-letter.ts';
import { HEADERS, headerText } from '../contracts/headers.ts';
import { iso } from './stores.ts';
import type { DeadLetterTrace, ScanReport } from './types.ts';

/**
 * The Kafka side of a trace: the job's records on the gold topic, and dead letters of the job or
 * its workspace. Both are bounded searches: a range starts at the offset of a point in time (Kafka's
 * time index, `ListOffsets` by timestamp) and reads at most `limit` records per partition, and the
 * gold search reads only the job's partition. Their reports say when a bound stopped a search.
 */
export interface TopicDeps {
  kafka: Kafka;
  admin: Admin;
  registry: Pick<SchemaRegistry, 'decode'>;
}

export interface GoldFound {
  partition: number;
  offset: string;
  timestamp: number | null;
  value: Record<string, unknown>;
}

/** The partition the processor's producer (kafkajs' default partitioner) puts a job's records in. */
export function goldPartitionOf(jobId: string, partitions: number): number {
  const metadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return Partitioners.DefaultPartitioner()({
    topic: '',
    partitionMetadata: metadata,
    message: { key: jobId, value: null },
  });
}

/** A range of a bounded search, and where the partition ended when it was planned. */
interface BoundedRange extends OffsetRange {
  high: string;
}

/** [offset at `sinceMs` (or the low watermark), high watermark) per partition, cut to `limit` records. */
async function boundedRanges(
  admin: Admin,
  topic: string,
  sinceMs: number | null,
  limit: number,
  only?: number,
): Promise<BoundedRange[]> {
  const marks = await admin.fetchTopicOffsets(topic);
  const since = sinceMs === null ? [] : await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
  const out: BoundedRange[] = [];
  for (const m of marks) {
    if (only !== undefined && m.partition !== only) continue;
    const at = since.find((s) => s.partition === m.partition)?.offset;
    const low = BigInt(m.low);
    const high = BigInt(m.high);
    const from = at === undefined || BigInt(at) < low ? low : BigInt(at) > high ? high : BigInt(at);
    const to = from + BigInt(limit) < high ? from + BigInt(limit) : high;
    out.push({ topic, partition: m.partition, from: from.toString(), to: to.toString(), high: m.high });
  }
  return out;
}

function report(r: BoundedRange, scanned: number): ScanReport {
  return {
    topic: r.topic,
    partition: r.partition,
    from: r.from,
    to: r.to,
    scanned,
    complete: r.to === r.high,
  };
}

const ts = (m: KafkaMessage) => {
  const n = Number(m.timestamp);
  return n >= 0 ? n : null;
};

/**
 * The job's records on the gold topic from `sinceMs` on (the first raw record of the job: nothing
 * of it can be on the gold topic before), plus the records at `exact` offsets (what the stores hold)
 * when the bounded range did not reach them. Only records keyed by the job are decoded.
 */
export async function scanGold(
  deps: TopicDeps,
  opts: {
    topic: string;
    jobId: string;
    partition: number | undefined;
    sinceMs: number | null;
    limit: number;
    exact: string[];
    timeoutMs: number;
  },
): Promise<{ records: GoldFound[]; scans: ScanReport[] }> {
  const marks = await deps.admin.fetchTopicOffsets(opts.topic);
  const partition = opts.partition ?? goldPartitionOf(opts.jobId, marks.length);
  const ranges = await boundedRanges(deps.admin, opts.topic, opts.sinceMs, opts.limit, partition);
  const found = new Map<string, GoldFound>();
  let scanned = 0;
  const keep = async (message: KafkaMessage) => {
    if (message.key?.toString() !== opts.jobId || message.value === null) return;
    const value = (await deps.registry.decode(message.value)) as Record<string, unknown>;
    found.set(message.offset, { partition, offset: message.offset, timestamp: ts(message), value });
  };
  await readRanges(
    deps,
    ranges,
    async ({ message }) => {
      scanned++;
      await keep(message);
      return undefined;
    },
    { timeoutMs: opts.timeoutMs },
  );
  const range = ranges[0];
  const mark = marks.find((m) => m.partition === partition);
  // an offset the partition does not hold (compacted away, or a store written from another
  // incarnation of the topic) is not waited for
  const held = (o: bigint) => mark !== undefined && o >= BigInt(mark.low) && o < BigInt(mark.high);
  const outside = opts.exact.filter(
    (o) =>
      !found.has(o) &&
      range !== undefined &&
      held(BigInt(o)) &&
      (BigInt(o) < BigInt(range.from) || BigInt(o) >= BigInt(range.to)),
  );
  if (outside.length > 0) {
    await readRanges(
      deps,
      outside.map((o) => ({ topic: opts.topic, partition, from: o, to: (BigInt(o) + 1n).toString() })),
      async ({ message }) => {
        await keep(message);
        return 'stop' as const;
      },
      { timeoutMs: opts.timeoutMs },
    );
  }
  const records = [...found.values()].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return { records, scans: ranges.map((r) => report(r, scanned)) };
}

/**
 * Dead letters of the job (its id in the value or the key) and, on `workspaceTopics`, of its
 * workspace, on every partition of `topics` from `sinceMs` on, at most `limit` records per
 * partition. Letters hold the API's JSON (the pollers'), the original Avro bytes (every consumer
 * stage) or, in older processor letters, the rejected job as JSON: the id is in all three as text
 * (Avro writes strings as UTF-8), so matching needs no decoding.
 */
export async function scanDeadLetters(
  deps: TopicDeps,
  opts: {
    topics: string[];
    workspaceTopics: string[];
    jobId: string;
    workspaceId: string | null;
    sinceMs: number | null;
    limit: number;
    timeoutMs: number;
  },
): Promise<{ letters: DeadLetterTrace[]; scans: ScanReport[] }> {
  const existing = new Set(await deps.admin.listTopics());
  const ranges: BoundedRange[] = [];
  for (const topic of opts.topics.filter((t) => existing.has(t))) {
    ranges.push(...(await boundedRanges(deps.admin, topic, opts.sinceMs, opts.limit)));
  }
  const scanned = new Map<string, number>();
  const letters: DeadLetterTrace[] = [];
  const job = Buffer.from(opts.jobId);
  const workspace = opts.workspaceId === null ? null : Buffer.from(opts.workspaceId);
  await readRanges(
    deps,
    ranges,
    ({ topic, partition, message }) => {
      const k = `${topic}/${partition}`;
      scanned.set(k, (scanned.get(k) ?? 0) + 1);
      const value = message.value ?? Buffer.alloc(0);
      const key = message.key?.toString() ?? null;
      let entity: 'job' | 'workspace' | null = null;
      if (key === opts.jobId || value.includes(job)) entity = 'job';
      else if (workspace && opts.workspaceTopics.includes(topic) && value.includes(workspace)) {
        entity = 'workspace';
      }
      if (entity === null) return undefined;
      const letter = readDeadLetter(message.headers);
      letters.push({
        topic,
        partition,
        offset: message.offset,
        at: iso(ts(message)),
        entity,
        reason: letter.reason,
        source: letter.from && positionText(letter.from),
        requestId: headerText(message.headers, HEADERS.requestId),
        fetchedAt: headerText(message.headers, HEADERS.fetchedAt),
      });
      return undefined;
    },
    { timeoutMs: opts.timeoutMs },
  );
  letters.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
  const scans = ranges.map((r) => report(r, scanned.get(`${r.topic}/${r.partition}`) ?? 0));
  return { letters, scans };
}
