/**
 * Where `tributary replay --to …` moves a group: the start of each partition, its end, the first
 * record at or after a point in time, or explicit offsets (`topic:partition:offset,...`).
 */
export type ReplayTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'timestamp'; ms: number; text: string }
  | { kind: 'offsets'; offsets: Array<{ topic: string; partition: number; offset: string }> };

// A date, or a date-time with seconds optional and a zone required: a time without a zone would be
// read in this machine's zone, which is rarely what an operator on another machine meant.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;
const TOPIC = /^[A-Za-z0-9._-]+$/;

/** Parses the --to value; throws an Error whose message says what is expected. */
export function parseReplayTarget(text: string): ReplayTarget {
  const value = text.trim();
  if (value === 'earliest' || value === 'latest') return { kind: value };
  if (ISO_DATE.test(value) || ISO_DATE_TIME.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms) || !realDate(value)) throw new Error(`${JSON.stringify(text)} is not a valid date`);
    return { kind: 'timestamp', ms, text: new Date(ms).toISOString() };
  }
  if (ISO_NO_ZONE.test(value)) {
    throw new Error(`${JSON.stringify(text)} has no time zone: add Z (UTC) or an offset such as +02:00`);
  }
  if (value.includes(':')) return { kind: 'offsets', offsets: parseOffsets(value) };
  throw new Error(
    `${JSON.stringify(text)} is not earliest, latest, an ISO timestamp (2026-01-31T12:00:00Z) or topic:partition:offset,...`,
  );
}

/** Date.parse rolls 2026-02-31 over to March; an operator who typed it made a mistake. */
function realDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function parseOffsets(value: string): Array<{ topic: string; partition: number; offset: string }> {
  const out: Array<{ topic: string; partition: number; offset: string }> = [];
  const seen = new Set<string>();
  for (const item of value.split(',').map((s) => s.trim())) {
    const parts = item.split(':');
    const [topic, partition, offset] = parts;
    if (
      parts.length !== 3 ||
      !topic ||
      !TOPIC.test(topic) ||
      !/^\d+$/.test(partition ?? '') ||
      !/^\d+$/.test(offset ?? '')
    ) {
      throw new Error(`${JSON.stringify(item)} is not topic:partition:offset (e.g. raw.workspaces:0:1200)`);
    }
    const key = `${topic}:${partition}`;
    if (seen.has(key)) throw new Error(`${key} is given twice`);
    seen.add(key);
    out.push({ topic, partition: Number(partition), offset: BigInt(offset!).toString() });
  }
  return out;
}

export function describeTarget(t: ReplayTarget): string {
  if (t.kind === 'timestamp') return t.text;
  if (t.kind === 'offsets') return t.offsets.map((o) => `${o.topic}:${o.partition}:${o.offset}`).join(',');
  return t.kind;
}
