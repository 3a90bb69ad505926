import { createHash } from 'node:crypto';
import type { IHeaders, Message, TopicMessages } from 'kafkajs';
import type { ApiSpec } from './apis.ts';
import { mapRecord, versionOf } from './mapper.ts';
import type { ApiTopics } from './options.ts';
import type { SourcePage } from './source-client.ts';
import { advance, type PageVersion, type PollerState, versionKey } from './state.ts';

/**
 * Turns one fetched page into the messages of its transaction (minus the state message, which the
 * poller adds): versions already published are dropped, valid records are Avro-encoded for the raw
 * topic, the others go to the dead-letter topic as raw JSON with the reason.
 */
export interface BuiltPage {
  /** raw and DLQ messages; empty when every version in the page was already published */
  batches: TopicMessages[];
  next: PollerState;
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
}

export const HEADERS = {
  source: 'tributary-source',
  fetchedAt: 'tributary-fetched-at',
  requestId: 'tributary-request-id',
  dlqReason: 'tributary-dlq-reason',
} as const;

export async function buildPage(
  ctx: PageContext,
  state: PollerState,
  page: SourcePage,
  fetchedAt: number,
): Promise<BuiltPage> {
  const versions: PageVersion[] = page.data.map((raw) => {
    const v = versionOf(raw);
    if (v) return { key: versionKey(v.id, v.updatedAt), ...v };
    // No usable identity: dedupe on the content instead (the entry still goes to the DLQ once).
    return { key: `sha256:${createHash('sha256').update(JSON.stringify(raw)).digest('hex')}` };
  });
  const { fresh, next } = advance(state, versions, ctx.overlapMs, fetchedAt);
  const lineage: IHeaders = {
    [HEADERS.source]: ctx.api.name,
    [HEADERS.fetchedAt]: new Date(fetchedAt).toISOString(),
    [HEADERS.requestId]: page.requestId,
  };
  const raw: Message[] = [];
  const dlq: Message[] = [];
  for (const i of fresh) {
    const entry = page.data[i];
    const mapped = mapRecord<Record<string, unknown>>(ctx.api.schema, entry);
    if (mapped.ok) {
      raw.push({
        key: String(mapped.record[ctx.api.keyField]),
        value: await ctx.encode(mapped.record),
        headers: lineage,
      });
    } else {
      dlq.push({
        key: versions[i]?.id ?? null,
        value: JSON.stringify(entry) ?? 'null',
        headers: { ...lineage, [HEADERS.dlqReason]: mapped.reasons.join('; ') },
      });
    }
  }
  const batches: TopicMessages[] = [];
  if (raw.length > 0) batches.push({ topic: ctx.topics.raw, messages: raw });
  if (dlq.length > 0) batches.push({ topic: ctx.topics.dlq, messages: dlq });
  return {
    batches,
    next,
    published: raw.length,
    deadLettered: dlq.length,
    duplicates: page.data.length - fresh.length,
  };
}
