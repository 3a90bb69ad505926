import { type SchemaName, schemaText, schemaViolations } from '../schemas/index.ts';

/**
 * API JSON → Avro record. The API sends timestamps as ISO strings, Avro wants epoch milliseconds
 * (timestamp-millis): those fields are converted, every other schema field is copied as it is, and
 * fields the schema does not know are dropped (the API may grow). What still does not fit the schema
 * afterwards (a wrong type, a missing field, an unknown enum value, a timestamp that is not ISO)
 * is reported field by field, so the record can go to the dead-letter topic with a reason.
 */
export type MapResult<T> = { ok: true; record: T } | { ok: false; reasons: string[] };

interface FieldPlan {
  name: string;
  timestamp: boolean;
}

const plans = new Map<SchemaName, FieldPlan[]>();

function planOf(schema: SchemaName): FieldPlan[] {
  let plan = plans.get(schema);
  if (!plan) {
    const json = JSON.parse(schemaText(schema)) as { fields: Array<{ name: string; type: unknown }> };
    plan = json.fields.map((f) => ({ name: f.name, timestamp: isTimestampMillis(f.type) }));
    plans.set(schema, plan);
  }
  return plan;
}

function isTimestampMillis(type: unknown): boolean {
  if (Array.isArray(type)) return type.some(isTimestampMillis);
  return (
    typeof type === 'object' &&
    type !== null &&
    (type as { logicalType?: unknown }).logicalType === 'timestamp-millis'
  );
}

// Date.parse accepts far more than ISO 8601 ("2024", "March 7"); the API contract is ISO with a zone.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an ISO-8601 timestamp with a zone, or undefined when it is not one. */
export function isoToMillis(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function mapRecord<T>(schema: SchemaName, raw: unknown): MapResult<T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reasons: [`(record): ${JSON.stringify(raw)} is not a JSON object`] };
  }
  const source = raw as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  const reasons: string[] = [];
  for (const field of planOf(schema)) {
    const value = source[field.name];
    if (field.timestamp && value !== null && value !== undefined) {
      const ms = isoToMillis(value);
      if (ms === undefined)
        reasons.push(`${field.name}: ${JSON.stringify(value)} is not an ISO-8601 timestamp`);
      record[field.name] = ms ?? value;
    } else {
      record[field.name] = value;
    }
  }
  // A timestamp that did not convert is reported once, by the message above.
  const converted = new Set(reasons.map((r) => r.slice(0, r.indexOf(':'))));
  for (const problem of schemaViolations(schema, record)) {
    if (!converted.has(problem.slice(0, problem.indexOf(':')))) reasons.push(problem);
  }
  return reasons.length === 0 ? { ok: true, record: record as T } : { ok: false, reasons };
}

/**
 * The version identity (id, updated_at) of a feed entry, read leniently so that records that break
 * the schema elsewhere are still deduplicated and advance the high-water mark. Undefined when the
 * entry has no usable id or updated_at.
 */
export function versionOf(raw: unknown): { id: string; updatedAt: number } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { id, updated_at } = raw as { id?: unknown; updated_at?: unknown };
  const updatedAt = isoToMillis(updated_at);
  if (typeof id !== 'string' || id === '' || updatedAt === undefined) return undefined;
  return { id, updatedAt };
}
