import type { RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { startWalk } from './walks.ts';

const topics = { raw: 'raw.w', dlq: 'dlq.raw.w' };
const meta = (topicName: string, partition: number, baseOffset: string): RecordMetadata => ({
  topicName,
  partition,
  errorCode: 0,
  baseOffset,
});

describe('walk tally', () => {
  it('counts committed pages only and takes each raw partition from its first record to the marker', () => {
    const tally = startWalk({
      api: 'workspaces',
      topics,
      startedAt: 1000,
      startCursor: undefined,
      hwm: null,
      walkId: 'w1',
    });
    expect(tally.hasNew).toBe(false);
    tally.fetched(5, 0);
    tally.committed(4, 1, [
      meta('raw.w', 0, '10'),
      meta('raw.w', 1, '7'),
      meta('dlq.raw.w', 0, '3'),
      meta('state', 0, '99'),
    ]);
    tally.fetched(5, 5); // the overlap only: nothing committed
    tally.fetched(3, 1);
    tally.committed(2, 0, [meta('raw.w', 0, '14')]);
    expect(tally.hasNew).toBe(true);
    expect(tally.rawPartitions()).toEqual(
      new Map([
        [0, { first: 10n, lastBase: 14n }],
        [1, { first: 7n, lastBase: 7n }],
      ]),
    );
    const hwm = { updatedAt: 5000, id: 'x' };
    const summary = tally.summary({
      endedAt: 2000,
      outcome: 'complete',
      hwm,
      // partition 0: records 10..16, marker 17; partition 1: records 7..8, marker 9
      endOffsets: new Map([
        [0, 18n],
        [1, 10n],
        [2, 4n],
      ]),
    });
    expect(summary).toEqual({
      v: 1,
      walkId: 'w1',
      api: 'workspaces',
      rawTopic: 'raw.w',
      dlqTopic: 'dlq.raw.w',
      startedAt: 1000,
      endedAt: 2000,
      outcome: 'complete',
      startCursor: null,
      startHwm: null,
      endHwm: hwm,
      pages: 3,
      served: 13,
      duplicates: 6,
      published: 6,
      deadLettered: 1,
      rawOffsets: [
        { partition: 0, first: '10', last: '16' },
        { partition: 1, first: '7', last: '8' },
      ],
    });
  });

  it('refuses an end offset that does not include the last transaction’s marker yet', () => {
    const tally = startWalk({ api: 'workspaces', topics, startedAt: 0, startCursor: undefined, hwm: null });
    tally.committed(1, 0, [meta('raw.w', 0, '10')]);
    expect(() =>
      tally.summary({ endedAt: 1, outcome: 'complete', hwm: null, endOffsets: new Map([[0, 11n]]) }),
    ).toThrow(/no stable end offset past 10/);
  });
});
