import { createHash } from 'node:crypto';
import type { IHeaders, Message, TopicMessages } from 'kafkajs';
import { estimateRecordBytes, recordBudget } from '../common/kafka-limits.ts';
import { DEAD_LETTER_STAGES, deadLetter } from '../contracts/dead-letter.ts';
import { HEADERS } from '../contracts/headers.ts';
import type { ApiSpec } from './apis.ts';
import { mapRecord, versionOf } from './mapper.ts';
import type { ApiTopics } from './options.ts';
import type { SourcePage } from './source-client.ts';
import { advance, type Cursor, type PageVersion, versionKey } from './state.ts';

/**
 * Turns one fetched page into the messages of its transaction (minus the state message, which the
 * poller adds): versions already published are dropped, valid records are Avro-encoded for the raw
 * topic, the others go to the dead-letter topic as the API's JSON entry with the reason
 * (contracts/dead-letter.ts, stage TASK_POLL).
 */
export interface BuiltPage {
  /** raw and DLQ messages; empty when every version in the page was already published */
  batches: TopicMessages[];
  /** the cursor once the page is committed (its mark is added by the poller with the offsets) */
  next: Cursor;
  /** the newest updated_at among the page's published records (the `at` of its mark) */
  newestAt: number;
  published: number;
  deadLettered: number;
  duplicates: number;
}

export interface PageContext {
  api: ApiSpec;
  topics: ApiTopics;
  /** Confluent wire format (magic byte, schema id, Avro body), e.g. registry.encode(id, record) */
  encode: (record: unknown) => Promise<Buffer>;
  overlapMs: number;
  /** the broker's max.message.bytes of a topic: a record over it goes to the DLQ, truncated */
  maxMessageBytes: (topic: string) => number;
  /** who writes the dead letters (their connector-name header): the poller's transactional id */
  writer: string;
}

export async function buildPage(
  ctx: PageContext,
  cursor: Cursor,
  page: SourcePage,
  fetchedAt: number,
): Promise<BuiltPage> {
  const versions: PageVersion[] = page.data.map((raw) => {
    const v = versionOf(raw);
    if (v) return { key: versionKey(v.id, v.updatedAt), ...v };
    // No usable identity: dedupe on the content instead (the entry still goes to the DLQ once).
    return { key: `sha256:${createHash('sha256').update(JSON.stringify(raw)).digest('hex')}` };
  });
  const { fresh, at, next } = advance(cursor, versions, ctx.overlapMs, fetchedAt);
  const lineage: IHeaders = {
    [HEADERS.source]: ctx.api.name,
    [HEADERS.fetchedAt]: new Date(fetchedAt).toISOString(),
    [HEADERS.requestId]: page.requestId,
  };
  const rawBudget = recordBudget(ctx.maxMessageBytes(ctx.topics.raw));
  const dlqBudget = recordBudget(ctx.maxMessageBytes(ctx.topics.dlq));
  const raw: Message[] = [];
  const dlq: Message[] = [];
  for (const [n, i] of fresh.entries()) {
    const entry = page.data[i];
    const headers: IHeaders = {
      ...lineage,
      [HEADERS.version]: versions[i]!.key,
      [HEADERS.versionAt]: String(at[n]),
    };
    const refuse = (reason: string) => {
      const entryJson = JSON.stringify(entry) ?? 'null';
      dlq.push(
        fitted({ key: versions[i]?.id ?? null, value: entryJson, headers }, reason, ctx.writer, dlqBudget),
      );
    };
    const mapped = mapRecord<Record<string, unknown>>(ctx.api.schema, entry);
    if (!mapped.ok) {
      refuse(mapped.reasons.join('; '));
      continue;
    }
    const record = {
      key: String(mapped.record[ctx.api.keyField]),
      value: await ctx.encode(mapped.record),
      headers,
    };
    const size = estimateRecordBytes(record);
    if (size > rawBudget) refuse(`record of ${size} bytes exceeds the limit of ${ctx.topics.raw}`);
    else raw.push(record);
  }
  const batches: TopicMessages[] = [];
  if (raw.length > 0) batches.push({ topic: ctx.topics.raw, messages: raw });
  if (dlq.length > 0) batches.push({ topic: ctx.topics.dlq, messages: dlq });
  return {
    batches,
    next,
    newestAt: Math.max(Number.NEGATIVE_INFINITY, ...at),
    published: raw.length,
    deadLettered: dlq.length,
    duplicates: page.data.length - fresh.length,
  };
}

/**
 * A dead letter with its reason, its value cut to fit the topic when it would not: such a letter
 * loses nothing the source does not still have, and says the original size.
 */
function fitted(entry: Message, reason: string, writer: string, budget: number): Message {
  const letter = (message: Message, truncatedFrom?: number) =>
    deadLetter({ message, reason, stage: DEAD_LETTER_STAGES.polled, writer, truncatedFrom });
  const whole = letter(entry);
  const over = estimateRecordBytes(whole) - budget;
  if (over <= 0) return whole;
  const value = Buffer.from(String(entry.value));
  return letter(
    { ...entry, value: value.subarray(0, Math.max(0, value.length - over - 1024)) },
    value.length,
  );
}
