import { InvalidRecordError } from '../../common/errors.ts';

/**
 * Encoding of rows for PostgreSQL `COPY … FROM STDIN` in its text format: columns separated by a
 * tab, rows ended by a newline, `\N` for NULL, and backslash, tab, newline and carriage return
 * escaped. Hand-written because it is this small and no installed library produces this format
 * (pg-copy-streams only moves the bytes).
 */
export type CopyValue = string | number | boolean | null | undefined;

const NEEDS_CARE = /[\\\t\n\r\0]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One row as a line of COPY text. Throws InvalidRecordError (the record goes to the dead-letter
 * topic) for what Postgres would reject and fail the whole batch with: a NUL character in text,
 * a non-finite number.
 */
export function copyLine(values: readonly CopyValue[]): string {
  // An array joined once: repeated `+=` builds a rope that the final join has to flatten again.
  const fields = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) fields[i] = copyField(values[i]);
  return `${fields.join('\t')}\n`;
}

function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidRecordError(`${value} cannot be stored as a number`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // One scan for the common case, a value with nothing to escape.
  if (!NEEDS_CARE.test(value)) return value;
  assertText(value);
  return value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!);
}

// Year 1 to 9999: what both Date#toISOString and Postgres read back without surprises.
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;

/** Epoch ms as an ISO timestamp for a timestamptz column; InvalidRecordError when out of range. */
export function isoTimestamp(ms: number): string {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw new InvalidRecordError(`${ms} ms is not a timestamp between the years 1 and 9999`);
  }
  return new Date(ms).toISOString();
}

export function isoTimestampOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTimestamp(ms);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value for a uuid column; InvalidRecordError when Postgres would reject it. */
export function uuidText(value: string): string {
  if (!UUID.test(value)) throw new InvalidRecordError(`${JSON.stringify(value)} is not a UUID`);
  return value;
}

/** Postgres text cannot hold NUL: InvalidRecordError when the value has one. */
export function assertText(value: string | null): void {
  if (value?.includes('\0')) throw new InvalidRecordError('a text value contains a NUL character');
}
