import type { IHeaders, KafkaMessage } from 'kafkajs';
import { readDeadLetter } from '../contracts/dead-letter.ts';
import { HEADERS, isDeadLetterContext } from '../contracts/headers.ts';
import { APIS, type ApiName, isApiName } from '../producers/apis.ts';
import { mapRecord } from '../producers/mapper.ts';
import { schemaViolations } from '../schemas/index.ts';
import { headerStrings, isAvroWireFormat } from './decode.ts';

/**
 * What to do with one dead-lettered record when it is redriven (pure; redrive.ts does the I/O):
 *
 * - where it goes: the topic the letter was read from (`__connect.errors.topic`, or on older letters
 *   `tributary-dlq-source`; set by bronze, the processor and the gold sinks: contracts/dead-letter.ts),
 *   else the raw topic of the API named by the pollers' `tributary-source` header;
 * - Confluent Avro bytes go back unchanged: the record was fine, the consumer that refused it is
 *   what was fixed (every consumer stage dead-letters the source message's bytes as they were);
 * - JSON bound for a raw topic is validated and mapped with the current code, then Avro-encoded by
 *   the caller; if it still does not fit, it stays in the dead-letter topic. The pollers' letters
 *   are the API's JSON; older letters of the processor hold its rule breakers as JSON of the record;
 * - any other bytes go back unchanged, like Avro.
 *
 * The dead-letter context headers (where from, who, why; both generations) are dropped; the record's
 * own headers are kept, plus `tributary-redriven-from`.
 */

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

export function decideRedrive(
  ctx: RedriveContext,
  partition: number,
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>,
): RedriveDecision {
  const headers = headerStrings(message.headers);
  const sourceApi = headers[HEADERS.source];
  const topic =
    readDeadLetter(headers).from?.topic ??
    (sourceApi !== undefined && isApiName(sourceApi) ? ctx.rawTopics[sourceApi] : null);
  if (topic === null) {
    return {
      action: 'leave',
      topic: null,
      reasons: [`no source topic header and no known ${HEADERS.source} API: cannot tell where it came from`],
    };
  }
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!isDeadLetterContext(k)) out[k] = v;
  out[HEADERS.redrivenFrom] = `${ctx.dlqTopic}/${partition}/${message.offset}`;
  const value = message.value;
  if (value === null) return { action: 'leave', topic, reasons: ['the value is null (a tombstone)'] };
  if (isAvroWireFormat(value)) return { action: 'reinject', topic, key: message.key, value, headers: out };

  const api = (Object.keys(ctx.rawTopics) as ApiName[]).find((a) => ctx.rawTopics[a] === topic);
  const json = api ? parseJson(value) : undefined;
  if (!api || json === undefined) return { action: 'reinject', topic, key: message.key, value, headers: out };

  const spec = APIS[api];
  // Older processor letters hold the Avro record itself as JSON; the pollers' the API's JSON (ISO times).
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
