import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  type GoldRecord,
  latestPerJob,
  positionWinsSql,
  replaces,
  UNKNOWN_OFFSET,
} from './version.ts';

const at = (partition: number, offset: number) => ({ partition, offset });

describe('comparePositions', () => {
  it('orders by offset within a partition', () => {
    expect(comparePositions(at(1, 7), at(1, 6))).toBeGreaterThan(0);
    expect(comparePositions(at(1, 6), at(1, 7))).toBeLessThan(0);
    expect(comparePositions(at(1, 6), at(1, 6))).toBe(0);
  });
  it('orders by partition first, so that every store decides the same way', () => {
    expect(comparePositions(at(2, 0), at(1, 99))).toBeGreaterThan(0);
    expect(comparePositions(at(0, 99), at(1, 0))).toBeLessThan(0);
  });
  it('puts an unknown position before every known one', () => {
    expect(comparePositions(at(0, 0), at(5, UNKNOWN_OFFSET))).toBeGreaterThan(0);
    expect(comparePositions(at(5, UNKNOWN_OFFSET), at(0, 0))).toBeLessThan(0);
    expect(comparePositions(at(0, UNKNOWN_OFFSET), at(3, UNKNOWN_OFFSET))).toBe(0);
  });
});

describe('replaces', () => {
  it('stores a record when nothing is stored, or when it is later on the topic', () => {
    expect(replaces(at(0, 0), undefined)).toBe(true);
    expect(replaces(at(0, 5), at(0, 4))).toBe(true);
    expect(replaces(at(0, 0), at(0, UNKNOWN_OFFSET))).toBe(true);
  });
  it('changes nothing for the same record again or an earlier one', () => {
    expect(replaces(at(0, 5), at(0, 5))).toBe(false);
    expect(replaces(at(0, 4), at(0, 5))).toBe(false);
  });
});

describe('positionWinsSql', () => {
  it('is the same rule in SQL, over the two aliases', () => {
    expect(positionWinsSql('EXCLUDED', 'g')).toBe(
      '(g.source_offset < 0 OR (EXCLUDED.source_partition, EXCLUDED.source_offset) > (g.source_partition, g.source_offset))',
    );
  });
});

describe('latestPerJob', () => {
  const rec = (id: string, jobUpdatedAt: number, offset: string, partition = 0): GoldRecord => ({
    value: { job_id: id, job_updated_at: jobUpdatedAt, workspace_updated_at: null } as GoldRecord['value'],
    partition,
    offset,
  });
  it('keeps the latest record on the topic per job, whatever its timestamps', () => {
    const out = latestPerJob([
      rec('a', 3, '10'),
      rec('b', 1, '11'),
      rec('a', 9, '12'),
      rec('a', 1, '13'), // older job_updated_at, but later on the topic: it wins
    ]);
    expect(out.map((r) => [r.value.job_id, r.offset])).toEqual([
      ['a', '13'],
      ['b', '11'],
    ]);
  });
  it('compares offsets as numbers, not text', () => {
    expect(latestPerJob([rec('a', 1, '10'), rec('a', 1, '9')])[0]!.offset).toBe('10');
  });
  it('keeps one of a record delivered twice', () => {
    expect(latestPerJob([rec('a', 1, '5'), rec('a', 1, '5')])).toHaveLength(1);
  });
});
