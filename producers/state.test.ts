import { describe, expect, it } from 'vitest';
import {
  addMark,
  advance,
  initialCursor,
  type PageVersion,
  parseState,
  restoredCursor,
  serializeState,
  stateOf,
  versionKey,
  walkStart,
} from './state.ts';

const T = Date.parse('2024-05-02T12:00:00.000Z');
const v = (id: string, at: number): PageVersion => ({ key: versionKey(id, at), id, updatedAt: at });

describe('advance (dedupe and the overlap window)', () => {
  it('publishes every new version once, moves the high-water mark in (updated_at, id) order', () => {
    const page = [v('a', T), v('b', T), v('a', T + 10)];
    const { fresh, next } = advance(initialCursor(), page, 2000, T + 50);
    expect(fresh).toEqual([0, 1, 2]);
    expect(next.hwm).toEqual({ updatedAt: T + 10, id: 'a' });
    const tie = advance(initialCursor(), [v('b', T), v('a', T)], 2000, T);
    expect(tie.next.hwm).toEqual({ updatedAt: T, id: 'b' });
  });

  it('drops versions seen in an earlier page and twice in one page', () => {
    const first = advance(initialCursor(), [v('a', T), v('b', T + 1)], 2000, T);
    // the next walk starts overlap before the hwm and gets a, b again, plus a new version of a
    const again = advance(first.next, [v('a', T), v('b', T + 1), v('a', T + 5), v('a', T + 5)], 2000, T);
    expect(again.fresh).toEqual([2]);
    expect(again.next.hwm).toEqual({ updatedAt: T + 5, id: 'a' });
  });

  it('keeps only the versions inside the overlap window below the high-water mark', () => {
    const s = advance(initialCursor(), [v('a', T), v('b', T + 1000), v('c', T + 3000)], 2000, T).next;
    expect([...s.seen.keys()]).toEqual([versionKey('b', T + 1000), versionKey('c', T + 3000)]);
    expect(walkStart(s, 2000)).toBe(new Date(T + 1000).toISOString());
    // a late version inside the window (clock skew) is still published
    const late = advance(s, [v('b', T + 1000), v('z', T + 1500), v('c', T + 3000)], 2000, T);
    expect(late.fresh).toEqual([1]);
  });

  it('remembers entries without an identity by content, at the high-water mark', () => {
    const s = advance(initialCursor(), [v('a', T)], 2000, T).next;
    const raw: PageVersion = { key: 'sha256:abc' };
    const once = advance(s, [raw], 2000, T + 1);
    expect(once.fresh).toEqual([0]);
    expect(once.next.hwm).toEqual(s.hwm);
    expect(advance(once.next, [raw], 2000, T + 2).fresh).toEqual([]);
  });

  it('starts the first walk from the beginning of the feed', () => {
    expect(walkStart(initialCursor(), 2000)).toBeUndefined();
  });
});

describe('the committed state', () => {
  const mark = (at: number, offset: number, topic = 'raw') => ({
    at,
    offsets: [{ topic, partition: 0, offset: String(offset) }],
  });

  it('stays the same size however many versions share one updated_at', () => {
    const page = Array.from({ length: 100_000 }, (_, i) => v(`id-${String(i).padStart(6, '0')}`, T));
    const { next } = advance(initialCursor(), page, 2000, T);
    const state = stateOf(addMark(next, mark(T, 0), 2000), T + 1);
    expect(next.seen.size).toBe(100_000);
    expect(serializeState(state).length).toBeLessThan(200);
  });

  it('points at the lowest offset of every page still inside the window, per topic-partition', () => {
    let c = advance(initialCursor(), [v('a', T)], 2000, T).next;
    c = addMark(c, mark(T, 10), 2000);
    c = addMark(advance(c, [v('b', T + 1000)], 2000, T).next, mark(T + 1000, 20), 2000);
    c = addMark(c, mark(T + 1000, 5, 'dlq'), 2000);
    expect(stateOf(c, T).window).toEqual([
      { topic: 'dlq', partition: 0, offset: '5' },
      { topic: 'raw', partition: 0, offset: '10' },
    ]);
    // once the first page leaves the window its records are no longer read back
    c = addMark(advance(c, [v('c', T + 2500)], 2000, T).next, mark(T + 2500, 30), 2000);
    expect(stateOf(c, T).window).toEqual([
      { topic: 'dlq', partition: 0, offset: '5' },
      { topic: 'raw', partition: 0, offset: '20' },
    ]);
  });

  it('restores the window from the records read back, dropping what fell below the floor', () => {
    const hwm = { updatedAt: T + 3000, id: 'c' };
    const window = [{ topic: 'raw', partition: 0, offset: '7' }];
    const c = restoredCursor(
      hwm,
      [
        [versionKey('a', T), T],
        [versionKey('b', T + 1500), T + 1500],
      ],
      window,
      2000,
    );
    expect([...c.seen.keys()]).toEqual([versionKey('b', T + 1500)]);
    expect(stateOf(c, T).window).toEqual(window);
    expect(advance(c, [v('b', T + 1500), v('z', T + 1500)], 2000, T).fresh).toEqual([1]);
  });
});

describe('state serialisation', () => {
  it('round-trips version 2, reads version 1, and rejects anything else', () => {
    const s = stateOf(
      addMark(
        advance(initialCursor(), [v('a', T)], 2000, T).next,
        { at: T, offsets: [{ topic: 'raw', partition: 1, offset: '4' }] },
        2000,
      ),
      T + 9,
    );
    expect(parseState(serializeState(s))).toEqual(s);
    expect(JSON.parse(serializeState(s))).toEqual({
      v: 2,
      hwm: { updatedAt: T, id: 'a' },
      window: [{ topic: 'raw', partition: 1, offset: '4' }],
      committedAt: T + 9,
    });
    const v1 = { v: 1, hwm: { updatedAt: T, id: 'a' }, seen: [[versionKey('a', T), T]], committedAt: T };
    expect(parseState(JSON.stringify(v1))).toEqual(v1);
    expect(() => parseState('{"v":3}')).toThrow(/does not fit version 2/);
    expect(() => parseState('{nope')).toThrow(/not JSON/);
  });
});
