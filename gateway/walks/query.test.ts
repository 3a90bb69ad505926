import { describe, expect, it } from 'vitest';
import { walkLine, walkView } from './query.ts';

const row = {
  walk_id: 'w',
  api: 'enrichment-jobs',
  raw_topic: 'raw.enrichment-jobs',
  outcome: 'complete',
  started_at: new Date(1000),
  ended_at: new Date(2000),
  pages: 3,
  served: 130,
  duplicates: 5,
  published: 12_342,
  poller_dead_letters: 3,
  raw_offsets: [{ partition: 0, first: '1', last: '9' }],
  status: 'reconciled',
  in_bronze: 12_342,
  bronze_dead_letters: 0,
  missing: 0,
  gold_rows: 7,
  checked_at: new Date(3000),
};

describe('walk views', () => {
  it('counts the poller’s dead letters as served and as landed', () => {
    const v = walkView(row);
    expect(v).toMatchObject({ served: 12_345, inBronze: 12_342, deadLetters: 3, missing: 0, endedAt: 2000 });
    expect(walkLine(v)).toBe('12,345 served · 12,342 in bronze · 3 dead letters · 0 missing (reconciled)');
  });

  it('says when a walk was not counted yet', () => {
    const v = walkView({
      ...row,
      status: 'pending',
      in_bronze: null,
      bronze_dead_letters: null,
      missing: null,
      checked_at: null,
    });
    expect(v.deadLetters).toBeNull();
    expect(walkLine(v)).toBe('12,345 served · not counted yet (pending)');
  });
});
