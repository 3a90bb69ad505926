import { describe, expect, it } from 'vitest';
import { compareVersions, type GoldRecord, newestPerJob } from './version.ts';

const v = (job: number, ws: number | null) => ({ job_updated_at: job, workspace_updated_at: ws });

describe('compareVersions', () => {
  it('orders by job_updated_at first', () => {
    expect(compareVersions(v(2, null), v(1, 99))).toBeGreaterThan(0);
    expect(compareVersions(v(1, 99), v(2, null))).toBeLessThan(0);
  });
  it('then by workspace_updated_at, null lowest', () => {
    expect(compareVersions(v(1, 5), v(1, null))).toBeGreaterThan(0);
    expect(compareVersions(v(1, null), v(1, 0))).toBeLessThan(0);
    expect(compareVersions(v(1, 4), v(1, 5))).toBeLessThan(0);
  });
  it('treats identical versions as equal', () => {
    expect(compareVersions(v(1, null), v(1, null))).toBe(0);
    expect(compareVersions(v(1, 3), v(1, 3))).toBe(0);
  });
});

describe('newestPerJob', () => {
  const rec = (id: string, job: number, ws: number | null, offset: string): GoldRecord => ({
    value: { job_id: id, ...v(job, ws) } as GoldRecord['value'],
    partition: 0,
    offset,
  });
  it('keeps the newest version per job whatever the arrival order', () => {
    const out = newestPerJob([
      rec('a', 3, null, '0'),
      rec('b', 1, 1, '1'),
      rec('a', 1, 9, '2'),
      rec('a', 3, 1, '3'),
    ]);
    expect(out.map((r) => [r.value.job_id, r.offset])).toEqual([
      ['a', '3'],
      ['b', '1'],
    ]);
  });
  it('keeps the later offset on equal versions', () => {
    expect(newestPerJob([rec('a', 1, 1, '5'), rec('a', 1, 1, '6')])[0]!.offset).toBe('6');
  });
});
