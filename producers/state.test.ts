import { describe, expect, it } from 'vitest';
import {
  advance,
  initialState,
  type PageVersion,
  type PollerState,
  parseState,
  serializeState,
  versionKey,
  walkStart,
} from './state.ts';

const T = Date.parse('2024-05-02T12:00:00.000Z');
const v = (id: string, at: number): PageVersion => ({ key: versionKey(id, at), id, updatedAt: at });

describe('advance (dedupe and the overlap window)', () => {
  it('publishes every new version once, moves the high-water mark in (updated_at, id) order', () => {
    const page = [v('a', T), v('b', T), v('a', T + 10)];
    const { fresh, next } = advance(initialState(), page, 2000, T + 50);
    expect(fresh).toEqual([0, 1, 2]);
    expect(next.hwm).toEqual({ updatedAt: T + 10, id: 'a' });
    const tie = advance(initialState(), [v('b', T), v('a', T)], 2000, T);
    expect(tie.next.hwm).toEqual({ updatedAt: T, id: 'b' });
  });

  it('drops versions seen in an earlier page and twice in one page', () => {
    const first = advance(initialState(), [v('a', T), v('b', T + 1)], 2000, T);
    // the next walk starts overlap before the hwm and gets a, b again, plus a new version of a
    const again = advance(first.next, [v('a', T), v('b', T + 1), v('a', T + 5), v('a', T + 5)], 2000, T);
    expect(again.fresh).toEqual([2]);
    expect(again.next.hwm).toEqual({ updatedAt: T + 5, id: 'a' });
  });

  it('keeps only the versions inside the overlap window below the high-water mark', () => {
    const s = advance(initialState(), [v('a', T), v('b', T + 1000), v('c', T + 3000)], 2000, T).next;
    expect(s.seen.map(([k]) => k)).toEqual([versionKey('b', T + 1000), versionKey('c', T + 3000)]);
    expect(walkStart(s, 2000)).toBe(new Date(T + 1000).toISOString());
    // a late version inside the window (clock skew) is still published
    const late = advance(s, [v('b', T + 1000), v('z', T + 1500), v('c', T + 3000)], 2000, T);
    expect(late.fresh).toEqual([1]);
  });

  it('remembers entries without an identity by content, at the high-water mark', () => {
    const s = advance(initialState(), [v('a', T)], 2000, T).next;
    const raw: PageVersion = { key: 'sha256:abc' };
    const once = advance(s, [raw], 2000, T + 1);
    expect(once.fresh).toEqual([0]);
    expect(once.next.hwm).toEqual(s.hwm);
    expect(advance(once.next, [raw], 2000, T + 2).fresh).toEqual([]);
  });

  it('starts the first walk from the beginning of the feed', () => {
    expect(walkStart(initialState(), 2000)).toBeUndefined();
  });
});

describe('state serialisation', () => {
  it('round-trips and rejects what is not a version-1 state', () => {
    const s: PollerState = advance(initialState(), [v('a', T), v('b', T + 1)], 2000, T + 9).next;
    expect(parseState(serializeState(s))).toEqual(s);
    expect(JSON.parse(serializeState(s))).toEqual({
      v: 1,
      hwm: { updatedAt: T + 1, id: 'b' },
      seen: [
        [versionKey('a', T), T],
        [versionKey('b', T + 1), T + 1],
      ],
      committedAt: T + 9,
    });
    expect(() => parseState('{"v":2}')).toThrow(/does not fit version 1/);
    expect(() => parseState('{nope')).toThrow(/not JSON/);
  });
});
