import { describe, expect, it } from 'vitest';
import { compareFeed, createVersionStore, type StoredVersion } from './store.ts';

const v = (id: string, updatedAt: number, malformed = false): StoredVersion => ({
  id,
  updatedAt,
  malformed,
  body: { id, updated_at: new Date(updatedAt).toISOString() },
});

describe('version store', () => {
  it('keeps versions in (updated_at, id) order whatever the insertion order', () => {
    const store = createVersionStore();
    for (const x of [v('c', 2), v('a', 1), v('b', 2), v('a', 3), v('d', 1)]) store.append(x);
    expect(store.all().map((x) => `${x.updatedAt}${x.id}`)).toEqual(['1a', '1d', '2b', '2c', '3a']);
    expect(store.size).toBe(5);
    expect(store.records).toBe(4);
    expect(store.latest('a')?.updatedAt).toBe(3);
    expect(store.latest('zz')).toBeUndefined();
  });

  it('refuses a version that is not strictly after the same record’s previous one', () => {
    const store = createVersionStore();
    store.append(v('a', 5));
    expect(() => store.append(v('a', 5))).toThrow(/not after/);
    expect(() => store.append(v('a', 4))).toThrow(/not after/);
    expect(store.size).toBe(1);
  });

  it('pages strictly after a position, and strictly after updated_since', () => {
    const store = createVersionStore();
    for (const x of [v('a', 1), v('b', 1), v('c', 2), v('d', 3), v('e', 3)]) store.append(x);
    const ids = (q: Parameters<typeof store.page>[0]) => {
      const p = store.page(q);
      return { ids: p.items.map((x) => x.id).join(''), more: p.more };
    };
    expect(ids({ limit: 2 })).toEqual({ ids: 'ab', more: true });
    expect(ids({ limit: 2, after: { updatedAt: 1, id: 'b' } })).toEqual({ ids: 'cd', more: true });
    expect(ids({ limit: 2, after: { updatedAt: 3, id: 'd' } })).toEqual({ ids: 'e', more: false });
    // a full page that reaches the end has nothing more
    expect(ids({ limit: 2, after: { updatedAt: 2, id: 'c' } })).toEqual({ ids: 'de', more: false });
    // a position between versions (its record need not exist)
    expect(ids({ limit: 10, after: { updatedAt: 1, id: 'aa' } })).toEqual({ ids: 'bcde', more: false });
    expect(ids({ limit: 10, updatedSince: 1 })).toEqual({ ids: 'cde', more: false });
    expect(ids({ limit: 10, updatedSince: 2, after: { updatedAt: 1, id: 'a' } })).toEqual({
      ids: 'de',
      more: false,
    });
    expect(ids({ limit: 10, updatedSince: 3 })).toEqual({ ids: '', more: false });
  });

  it('counts malformed versions', () => {
    const store = createVersionStore();
    store.append(v('a', 1, true));
    store.append(v('a', 2));
    expect(store.malformed).toBe(1);
  });

  it('orders by time first, then by id', () => {
    expect(compareFeed({ updatedAt: 1, id: 'z' }, { updatedAt: 2, id: 'a' })).toBeLessThan(0);
    expect(compareFeed({ updatedAt: 2, id: 'a' }, { updatedAt: 2, id: 'b' })).toBeLessThan(0);
    expect(compareFeed({ updatedAt: 2, id: 'b' }, { updatedAt: 2, id: 'b' })).toBe(0);
  });
});
