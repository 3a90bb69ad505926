import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { type OffsetRange, readRanges, wholeTopics } from '../common/topic-reader.ts';
import { positionText, readDeadLetter } from '../contracts/dead-letter.ts';
import { type ReadableRecord, readableRecord } from './decode.ts';
import { type ReasonCount, ReasonTally } from './dlq-reasons.ts';

/**
 * `tributary dlq list|show`: what the dead-letter topics hold. Counts are records read (not offset
 * differences: transactional writers leave commit markers that are offsets but not records).
 */
export interface DlqSummary {
  topic: string;
  records: number;
  reasons: ReasonCount[];
}

export interface DeadLetterView extends ReadableRecord {
  reason: string | null;
  /** `<topic>/<partition>/<offset>` of the original record, when the writer recorded it */
  source: string | null;
  /** who dead-lettered it: the consumer group, or the poller (older letters: bronze and sinks only) */
  group: string | null;
  /** Kafka Connect's stage that refused it (VALUE_CONVERTER, TASK_PUT, TASK_POLL); null on older letters */
  stage: string | null;
}

/** The dead-letter topics that exist: the configured ones and any other `dlq.*` topic. */
export async function existingDlqTopics(admin: Admin, configured: readonly string[]): Promise<string[]> {
  const all = await admin.listTopics();
  const wanted = new Set(configured);
  return all.filter((t) => wanted.has(t) || t.startsWith('dlq.')).sort();
}

export async function summarizeDlq(
  deps: { kafka: Kafka; admin: Admin },
  topic: string,
  opts: { top?: number; timeoutMs?: number } = {},
): Promise<DlqSummary> {
  const tally = new ReasonTally();
  let records = 0;
  await readRanges(
    deps,
    await wholeTopics(deps.admin, [topic]),
    ({ message }) => {
      records++;
      tally.add(readDeadLetter(message.headers).reason ?? undefined);
      return undefined;
    },
    { timeoutMs: opts.timeoutMs },
  );
  return { topic, records, reasons: tally.top(opts.top ?? 3) };
}

/** The last `limit` records of the topic (per partition, then the newest `limit` overall), oldest first. */
export async function showDlq(
  deps: { kafka: Kafka; admin: Admin; registry: Pick<SchemaRegistry, 'decode'> },
  topic: string,
  opts: { limit: number },
): Promise<DeadLetterView[]> {
  const ranges: OffsetRange[] = (await wholeTopics(deps.admin, [topic])).map((r) => {
    const from = BigInt(r.to) - BigInt(opts.limit);
    return { ...r, from: (from > BigInt(r.from) ? from : BigInt(r.from)).toString() };
  });
  const views: DeadLetterView[] = [];
  await readRanges(deps, ranges, async ({ partition, message }) => {
    const record = await readableRecord(deps.registry, topic, partition, message);
    const letter = readDeadLetter(message.headers);
    views.push({
      ...record,
      reason: letter.reason,
      source: letter.from && positionText(letter.from),
      group: letter.writer,
      stage: letter.stage,
    });
    return undefined;
  });
  return views
    .sort(
      (a, b) =>
        a.timestamp.localeCompare(b.timestamp) || a.partition - b.partition || cmp(a.offset, b.offset),
    )
    .slice(-opts.limit);
}

const cmp = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
