import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { IHeaders, KafkaMessage } from 'kafkajs';

/**
 * Turns a Kafka record into something a person (or `--json`) can read: Confluent Avro decoded with
 * the writer schema from the registry, JSON parsed, text as text, anything else as base64. A value
 * that looks like Avro but cannot be decoded says why instead of failing the whole command.
 */
export type DecodedValue =
  | { format: 'avro'; schemaId: number; value: unknown }
  | { format: 'json'; value: unknown }
  | { format: 'text'; value: string }
  | { format: 'binary'; base64: string }
  | { format: 'null' }
  | { format: 'undecodable'; schemaId: number; error: string; base64: string };

export interface ReadableRecord {
  topic: string;
  partition: number;
  offset: string;
  /** ISO time of the record's timestamp */
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  value: DecodedValue;
}

export function isAvroWireFormat(value: Buffer | null): boolean {
  return value !== null && value.length >= 5 && value[0] === 0;
}

export async function decodeValue(
  registry: Pick<SchemaRegistry, 'decode'>,
  value: Buffer | null,
): Promise<DecodedValue> {
  if (value === null) return { format: 'null' };
  if (isAvroWireFormat(value)) {
    const schemaId = value.readUInt32BE(1);
    try {
      return { format: 'avro', schemaId, value: await registry.decode(value) };
    } catch (err) {
      return {
        format: 'undecodable',
        schemaId,
        error: (err as Error).message,
        base64: value.toString('base64'),
      };
    }
  }
  const text = value.toString('utf8');
  // Round-tripping proves the bytes are UTF-8; control characters other than whitespace mean binary.
  if (Buffer.from(text, 'utf8').equals(value) && !hasControlCharacters(text)) {
    if (/^\s*[[{"\d-]|^\s*(true|false|null)\s*$/.test(text)) {
      try {
        return { format: 'json', value: JSON.parse(text) };
      } catch {
        // not JSON after all: shown as text
      }
    }
    return { format: 'text', value: text };
  }
  return { format: 'binary', base64: value.toString('base64') };
}

/** Control characters other than tab, newline, vertical tab, form feed and carriage return. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && (c < 0x09 || c > 0x0d)) return true;
  }
  return false;
}

export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

export async function readableRecord(
  registry: Pick<SchemaRegistry, 'decode'>,
  topic: string,
  partition: number,
  message: KafkaMessage,
): Promise<ReadableRecord> {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: message.key?.toString() ?? null,
    headers: headerStrings(message.headers),
    value: await decodeValue(registry, message.value),
  };
}

/** JSON text of a decoded value: Buffers (Avro bytes) as base64, bigints as strings. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    function (this: unknown, key, v) {
      const raw = (this as Record<string, unknown>)[key];
      if (Buffer.isBuffer(raw)) return raw.toString('base64');
      if (typeof v === 'bigint') return v.toString();
      return v;
    },
    space,
  );
}

/** The value alone, as one line of JSON (or the text itself). */
export function valueText(value: DecodedValue): string {
  switch (value.format) {
    case 'avro':
    case 'json':
      return toJson(value.value);
    case 'text':
      return value.value;
    case 'binary':
      return `(binary, base64) ${value.base64}`;
    case 'null':
      return '(null)';
    case 'undecodable':
      return `(undecodable Avro, schema id ${value.schemaId}: ${value.error})`;
  }
}
