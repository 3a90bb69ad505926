import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * A poller's cursor, as committed to the state topic in the same transaction as the records it
 * covers (see README.md). Pure functions only: the store and the loop do the I/O.
 *
 * - `hwm`: the greatest version (updated_at, id) published so far, in feed order.
 * - `seen`: every version published whose updated_at is within `overlapMs` below the high-water
 *   mark. Each walk restarts at hwm.updated_at − overlap (clock-skew safety), so the versions in
 *   that window come back and are dropped by this list; older ones never come back.
 */
export const PollerStateSchema = Type.Object({
  v: Type.Literal(1),
  hwm: Type.Union([Type.Null(), Type.Object({ updatedAt: Type.Integer(), id: Type.String() })]),
  /** [version key, updated_at in epoch ms] */
  seen: Type.Array(Type.Tuple([Type.String(), Type.Integer()])),
  /** when this state was committed (epoch ms), for humans */
  committedAt: Type.Integer(),
});
export type PollerState = Static<typeof PollerStateSchema>;

export function initialState(): PollerState {
  return { v: 1, hwm: null, seen: [], committedAt: 0 };
}

export function serializeState(state: PollerState): string {
  return JSON.stringify(state);
}

export function parseState(text: string): PollerState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`poller state is not JSON: ${(err as Error).message}`);
  }
  if (!Value.Check(PollerStateSchema, value)) {
    const [first] = Value.Errors(PollerStateSchema, value);
    throw new Error(`poller state does not fit version 1: ${first?.instancePath} ${first?.message}`);
  }
  return value;
}

/** The `updated_since` of the next walk: overlapMs before the high-water mark (none at first). */
export function walkStart(state: PollerState, overlapMs: number): string | undefined {
  return state.hwm ? new Date(state.hwm.updatedAt - overlapMs).toISOString() : undefined;
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
 * Folds a page into the state: returns which entries are new (indexes into `page`, in order) and the
 * state after publishing them. Entries already in `seen`, or twice in the page, are dropped.
 */
export function advance(
  state: PollerState,
  page: readonly PageVersion[],
  overlapMs: number,
  now: number,
): { fresh: number[]; next: PollerState } {
  const seen = new Map(state.seen);
  let hwm = state.hwm;
  const fresh: number[] = [];
  page.forEach((v, i) => {
    if (seen.has(v.key)) return;
    fresh.push(i);
    if (v.id !== undefined && v.updatedAt !== undefined) {
      const candidate = { updatedAt: v.updatedAt, id: v.id };
      if (after(candidate, hwm)) hwm = candidate;
    }
    seen.set(v.key, v.updatedAt ?? hwm?.updatedAt ?? now);
  });
  const floor = hwm ? hwm.updatedAt - overlapMs : Number.NEGATIVE_INFINITY;
  const kept = [...seen].filter(([, at]) => at >= floor);
  return { fresh, next: { v: 1, hwm, seen: kept, committedAt: now } };
}
