import type { IHeaders, KafkaMessage } from 'kafkajs';
import { DLQ_GROUP_HEADER, DLQ_REASON_HEADER, DLQ_SOURCE_HEADER } from '../consumers/shared/dead-letter.ts';
import { APIS, type ApiName, isApiName } from '../producers/apis.ts';
import { mapRecord } from '../producers/mapper.ts';
import { schemaViolations } from '../schemas/index.ts';
import { headerStrings, isAvroWireFormat } from './decode.ts';

/**
 * What to do with one dead-lettered record when it is redriven (pure; redrive.ts does the I/O):
 *
 * - where it goes: the topic named by its `tributary-dlq-source` header (`<topic>/<partition>/<offset>`,
 *   set by bronze, the processor and the gold sinks), else the raw topic of the API named by the
 *   pollers' `tributary-source` header;
 * - Confluent Avro bytes go back unchanged: the record was fine, the consumer that refused it is
 *   what was fixed;
 * - JSON bound for a raw topic (the pollers' dead letters are the API's JSON, the processor's rule
 *   breakers the record as JSON) is validated and mapped with the current code, then Avro-encoded
 *   by the caller; if it still does not fit, it stays in the dead-letter topic;
 * - any other bytes go back unchanged, like Avro.
 */
export const REDRIVEN_FROM_HEADER = 'tributary-redriven-from';
/** The pollers' header naming the API a record came from. */
const SOURCE_API_HEADER = 'tributary-source';

export type RedriveDecision =
  | { action: 'reinject'; topic: string; key: Buffer | string | null; value: Buffer; headers: IHeaders }
  | {
      action: 'encode';
      topic: string;
      key: string;
      schema: (typeof APIS)[ApiName]['schema'];
      record: unknown;
      headers: IHeaders;
    }
  | { action: 'leave'; topic: string | null; reasons: string[] };

export interface RedriveContext {
  dlqTopic: string;
  /** the raw topic of each API, as the pollers and the processor are configured */
  rawTopics: Record<ApiName, string>;
}

/** `raw.workspaces/2/1234` → `raw.workspaces` (topic names cannot contain a slash). */
export function sourceTopic(source: string | undefined): string | null {
  if (!source) return null;
  const parts = source.split('/');
  if (parts.length < 3 || !/^\d+$/.test(parts.at(-1)!) || !/^\d+$/.test(parts.at(-2)!)) return null;
  return parts.slice(0, -2).join('/') || null;
}

export function decideRedrive(
  ctx: RedriveContext,
  partition: number,
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>,
): RedriveDecision {
  const headers = headerStrings(message.headers);
  const sourceApi = headers[SOURCE_API_HEADER];
  const topic =
    sourceTopic(headers[DLQ_SOURCE_HEADER]) ??
    (sourceApi !== undefined && isApiName(sourceApi) ? ctx.rawTopics[sourceApi] : null);
  if (topic === null) {
    return {
      action: 'leave',
      topic: null,
      reasons: [
        'no tributary-dlq-source header and no known tributary-source API: cannot tell where it came from',
      ],
    };
  }
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== DLQ_REASON_HEADER && k !== DLQ_SOURCE_HEADER && k !== DLQ_GROUP_HEADER) out[k] = v;
  }
  out[REDRIVEN_FROM_HEADER] = `${ctx.dlqTopic}/${partition}/${message.offset}`;
  const value = message.value;
  if (value === null) return { action: 'leave', topic, reasons: ['the value is null (a tombstone)'] };
  if (isAvroWireFormat(value)) return { action: 'reinject', topic, key: message.key, value, headers: out };

  const api = (Object.keys(ctx.rawTopics) as ApiName[]).find((a) => ctx.rawTopics[a] === topic);
  const json = api ? parseJson(value) : undefined;
  if (!api || json === undefined) return { action: 'reinject', topic, key: message.key, value, headers: out };

  const spec = APIS[api];
  // The processor dead-letters the Avro record itself as JSON; the pollers the API's JSON (ISO times).
  let record: unknown = json;
  if (schemaViolations(spec.schema, json).length > 0) {
    const mapped = mapRecord(spec.schema, json);
    if (!mapped.ok) return { action: 'leave', topic, reasons: mapped.reasons };
    record = mapped.record;
  }
  const key = (record as Record<string, unknown>)[spec.keyField];
  return { action: 'encode', topic, key: String(key), schema: spec.schema, record, headers: out };
}

function parseJson(value: Buffer): unknown {
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
}
