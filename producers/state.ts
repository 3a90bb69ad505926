import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * A poller's cursor. Pure functions only: the store, the window reader and the loop do the I/O.
 *
 * Each walk restarts at hwm.updated_at − overlap (clock-skew safety), so the versions published in
 * that window come back and must be dropped. Which ones were published is a set that grows with the
 * change rate and with how many versions share one updated_at (a bulk import upstream gives 100,000
 * records one timestamp), so it is NOT written into the state record: Kafka refuses records over
 * ~1 MB, and a poller whose state cannot be written stops for good. The committed state holds only
 * the high-water mark and, per topic-partition the poller writes to, the offset where the records
 * of the overlap window begin. The set itself lives in memory (`Cursor.seen`) and is rebuilt after a
 * restart by reading those records back (their `tributary-version` headers), read_committed: the
 * topics are the truth of what was published, in the same transactions as the state.
 */
const Hwm = Type.Union([Type.Null(), Type.Object({ updatedAt: Type.Integer(), id: Type.String() })]);
const Offset = Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.String() });

export const PollerStateSchema = Type.Object({
  v: Type.Literal(2),
  /** the greatest version (updated_at, id) published so far, in feed order */
  hwm: Hwm,
  /** where the records of the overlap window start, per topic-partition (size: the partitions) */
  window: Type.Array(Offset),
  /** when this state was committed (epoch ms), for humans */
  committedAt: Type.Integer(),
});
export type PollerState = Static<typeof PollerStateSchema>;
export type TopicOffset = Static<typeof Offset>;

/** Version 1 wrote the window's version keys into the state; read once when upgrading. */
const PollerStateV1 = Type.Object({
  v: Type.Literal(1),
  hwm: Hwm,
  seen: Type.Array(Type.Tuple([Type.String(), Type.Integer()])),
  committedAt: Type.Integer(),
});
export type PollerStateV1 = Static<typeof PollerStateV1>;

/** A page's records start at these offsets; `at` is the newest updated_at among them. */
export interface Mark {
  at: number;
  offsets: TopicOffset[];
}

/** What a running poller knows: the committed part plus the window's versions, in memory. */
export interface Cursor {
  hwm: PollerState['hwm'];
  /** version key → updated_at (ms) of every version published inside the overlap window */
  seen: Map<string, number>;
  /** the committed pages whose records are still needed to rebuild `seen` */
  marks: Mark[];
}

export function initialCursor(): Cursor {
  return { hwm: null, seen: new Map(), marks: [] };
}

export function serializeState(state: PollerState): string {
  return JSON.stringify(state);
}

export function parseState(text: string): PollerState | PollerStateV1 {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`poller state is not JSON: ${(err as Error).message}`);
  }
  if (Value.Check(PollerStateSchema, value) || Value.Check(PollerStateV1, value)) return value;
  const [first] = Value.Errors(PollerStateSchema, value);
  throw new Error(`poller state does not fit version 2: ${first?.instancePath} ${first?.message}`);
}

/** The `updated_since` of the next walk: overlapMs before the high-water mark (none at first). */
export function walkStart(cursor: Pick<Cursor, 'hwm'>, overlapMs: number): string | undefined {
  return cursor.hwm ? new Date(cursor.hwm.updatedAt - overlapMs).toISOString() : undefined;
}

/**
 * One entry of a fetched page. `updatedAt` is undefined for entries without a usable id/updated_at:
 * their key is a hash of the raw JSON and they are remembered at the current high-water mark.
 */
export interface PageVersion {
  key: string;
  id?: string;
  updatedAt?: number;
}

export function versionKey(id: string, updatedAt: number): string {
  return `${id}@${updatedAt}`;
}

function after(a: { updatedAt: number; id: string }, b: { updatedAt: number; id: string } | null): boolean {
  if (!b) return true;
  return a.updatedAt !== b.updatedAt ? a.updatedAt > b.updatedAt : a.id > b.id;
}

/**
 * Folds a page into the cursor: returns which entries are new (indexes into `page`, in order), the
 * `at` each is remembered by (its updated_at, or the high-water mark for entries without one), and
 * the cursor after publishing them. Entries already seen, or twice in the page, are dropped.
 *
 * The cursor is taken over, not copied: copying a window of 100,000 versions per page would make a
 * backfill quadratic. A page that then fails to commit leaves the cursor ahead of Kafka, which is
 * why the poller throws its session away after any failure past this point and loads the cursor
 * again from what was committed.
 */
export function advance(
  cursor: Cursor,
  page: readonly PageVersion[],
  overlapMs: number,
  now: number,
): { fresh: number[]; at: number[]; next: Cursor } {
  const { seen } = cursor;
  let hwm = cursor.hwm;
  const fresh: number[] = [];
  const at: number[] = [];
  page.forEach((v, i) => {
    if (seen.has(v.key)) return;
    fresh.push(i);
    if (v.id !== undefined && v.updatedAt !== undefined) {
      const candidate = { updatedAt: v.updatedAt, id: v.id };
      if (after(candidate, hwm)) hwm = candidate;
    }
    const when = v.updatedAt ?? hwm?.updatedAt ?? now;
    at.push(when);
    seen.set(v.key, when);
  });
  return { fresh, at, next: prune({ hwm, seen, marks: cursor.marks }, overlapMs) };
}

/** Adds the mark of a committed page and forgets what fell below the overlap window. */
export function addMark(cursor: Cursor, mark: Mark, overlapMs: number): Cursor {
  return prune({ ...cursor, marks: [...cursor.marks, mark] }, overlapMs);
}

/**
 * Forgets the versions below the window's floor, oldest first in insertion order (a Map keeps it):
 * amortised O(1) per version. A late version (clock skew) inserted after newer ones is forgotten a
 * little later than it could be, which is safe: walks start at the floor, so it cannot come back.
 */
function prune(cursor: Cursor, overlapMs: number): Cursor {
  const floor = cursor.hwm ? cursor.hwm.updatedAt - overlapMs : Number.NEGATIVE_INFINITY;
  for (const [k, at] of cursor.seen) {
    if (at >= floor) break;
    cursor.seen.delete(k);
  }
  return { hwm: cursor.hwm, seen: cursor.seen, marks: cursor.marks.filter((m) => m.at >= floor) };
}

/** The record to commit: per topic-partition, the lowest offset any page of the window starts at. */
export function stateOf(cursor: Cursor, now: number): PollerState {
  const lowest = new Map<string, TopicOffset>();
  for (const m of cursor.marks) {
    for (const o of m.offsets) {
      const k = `${o.topic}\u0000${o.partition}`;
      const have = lowest.get(k);
      if (!have || BigInt(o.offset) < BigInt(have.offset)) lowest.set(k, o);
    }
  }
  const window = [...lowest.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  return { v: 2, hwm: cursor.hwm, window, committedAt: now };
}

/**
 * The cursor after a restart: the committed high-water mark, the versions read back from the
 * window's records (entries below the floor dropped), and one mark that keeps the window's offsets
 * until every restored version has left the window.
 */
export function restoredCursor(
  hwm: PollerState['hwm'],
  versions: Iterable<readonly [key: string, at: number]>,
  window: TopicOffset[],
  overlapMs: number,
): Cursor {
  const seen = new Map<string, number>();
  let newest = Number.NEGATIVE_INFINITY;
  for (const [k, at] of versions) {
    seen.set(k, at);
    if (at > newest) newest = at;
  }
  const marks = seen.size > 0 && window.length > 0 ? [{ at: newest, offsets: window }] : [];
  return prune({ hwm, seen, marks }, overlapMs);
}
