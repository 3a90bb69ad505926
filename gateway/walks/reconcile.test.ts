import { describe, expect, it } from 'vitest';
import { caughtUp, judge, rangeParams } from './reconcile.ts';

const ranges = [
  { partition: 0, first: '10', last: '16' },
  { partition: 2, first: '7', last: '8' },
];

describe('reconciliation per walk', () => {
  it('is caught up only when the group committed past the last offset of every partition', () => {
    expect(
      caughtUp(
        ranges,
        new Map([
          [0, '17'],
          [2, '9'],
        ]),
      ),
    ).toBe(true);
    expect(
      caughtUp(
        ranges,
        new Map([
          [0, '40'],
          [2, '12'],
          [1, '0'],
        ]),
      ),
    ).toBe(true);
    // committed = the next offset to read: 16 is not consumed yet
    expect(
      caughtUp(
        ranges,
        new Map([
          [0, '16'],
          [2, '9'],
        ]),
      ),
    ).toBe(false);
    expect(
      caughtUp(
        ranges,
        new Map([
          [0, '17'],
          [2, null],
        ]),
      ),
    ).toBe(false);
    expect(caughtUp(ranges, new Map([[0, '17']]))).toBe(false);
    expect(caughtUp([], new Map())).toBe(true);
  });

  it('reconciles as soon as every published version is in bronze or a dead letter', () => {
    expect(judge(9, { inBronze: 9, bronzeDeadLetters: 0 }, false)).toEqual({
      status: 'reconciled',
      missing: 0,
    });
    expect(judge(9, { inBronze: 7, bronzeDeadLetters: 2 }, true)).toEqual({
      status: 'reconciled',
      missing: 0,
    });
    expect(judge(0, { inBronze: 0, bronzeDeadLetters: 0 }, false)).toEqual({
      status: 'reconciled',
      missing: 0,
    });
  });

  it('waits for bronze before calling a shortfall missing', () => {
    expect(judge(9, { inBronze: 4, bronzeDeadLetters: 0 }, false)).toEqual({ status: 'pending', missing: 5 });
    expect(judge(9, { inBronze: 8, bronzeDeadLetters: 0 }, true)).toEqual({
      status: 'unreconciled',
      missing: 1,
    });
  });

  it('passes the ranges as parallel arrays', () => {
    expect(rangeParams(ranges)).toEqual([
      [0, 2],
      ['10', '7'],
      ['16', '8'],
    ]);
  });
});
