import { describe, expect, it } from 'vitest';
import { canonicalJson, diffHashes, identical, recordHash, storeHash } from './content-hash.ts';

describe('content hashes', () => {
  it('ignore key order and the volatile columns, but nothing else', () => {
    const a = {
      job_id: 'j',
      status: 'queued',
      nested: { b: 1, a: [2, null] },
      processed_at: 1,
      written_at: new Date(1),
    };
    const b = {
      written_at: new Date(2),
      nested: { a: [2, null], b: 1 },
      status: 'queued',
      job_id: 'j',
      processed_at: 9,
    };
    expect(recordHash(a)).toBe(recordHash(b));
    expect(recordHash({ ...a, status: 'failed' })).not.toBe(recordHash(a));
    expect(canonicalJson({ d: new Date(0), n: 10n, u: undefined, buf: Buffer.from('x') })).toBe(
      '{"buf":"eA==","d":"1970-01-01T00:00:00.000Z","n":"10"}',
    );
  });

  it('hash a store independently of insertion order', () => {
    expect(
      storeHash(
        new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      ),
    ).toBe(
      storeHash(
        new Map([
          ['b', '2'],
          ['a', '1'],
        ]),
      ),
    );
    expect(storeHash(new Map([['a', '1']]))).not.toBe(storeHash(new Map([['a', '2']])));
  });
});

describe('diffHashes', () => {
  it('counts records only in one side and records that differ', () => {
    const current = new Map([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    const shadow = new Map([
      ['b', '2'],
      ['c', 'x'],
      ['d', '4'],
    ]);
    const d = diffHashes('postgres', current, shadow);
    expect(d).toMatchObject({
      onlyCurrent: 1,
      onlyShadow: 1,
      differing: 1,
      examples: { onlyCurrent: ['a'], onlyShadow: ['d'], differing: ['c'] },
      current: { records: 3 },
      shadow: { records: 3 },
    });
    expect(identical(d)).toBe(false);
    const same = diffHashes('mongodb', current, new Map(current));
    expect(identical(same)).toBe(true);
    expect(same.current.hash).toBe(same.shadow.hash);
  });
});
