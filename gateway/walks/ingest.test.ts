import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_STAGES, deadLetter } from '../../contracts/dead-letter.ts';
import { deadLetterSource, summaryRow } from './ingest.ts';

const message = (value: string | null, headers: KafkaMessage['headers'] = {}): KafkaMessage => ({
  key: null,
  value: value === null ? null : Buffer.from(value),
  timestamp: '0',
  attributes: 0,
  offset: '42',
  headers,
});

const summary = {
  v: 1,
  walkId: '0b7c8a8e-3f4e-4c47-9a61-3a7f2f1c0d11',
  api: 'workspaces',
  rawTopic: 'raw.workspaces',
  dlqTopic: 'dlq.raw.workspaces',
  startedAt: 1,
  endedAt: 2,
  outcome: 'complete',
  startCursor: null,
  startHwm: null,
  endHwm: { updatedAt: 5, id: 'a' },
  pages: 1,
  served: 3,
  duplicates: 0,
  published: 2,
  deadLettered: 1,
  rawOffsets: [{ partition: 1, first: '10', last: '11' }],
};

describe('walk ingest', () => {
  it('turns a summary record into its row and refuses anything else', () => {
    expect(summaryRow(message(JSON.stringify(summary)), 0)).toMatchObject({
      walkId: summary.walkId,
      published: 2,
      rawOffsets: summary.rawOffsets,
      partition: 0,
      offset: '42',
    });
    expect(summaryRow(message('not json'), 0)).toBeUndefined();
    expect(summaryRow(message(null), 0)).toBeUndefined();
    expect(summaryRow(message(JSON.stringify({ ...summary, published: -1 })), 0)).toBeUndefined();
    expect(
      summaryRow(
        message(JSON.stringify({ ...summary, rawOffsets: [{ partition: 0, first: 'x', last: '1' }] })),
        0,
      ),
    ).toBeUndefined();
  });

  it.each([
    [
      'written today',
      deadLetter({
        message: { key: null, value: 'x' },
        from: { topic: 'raw.enrichment-jobs.t-1', partition: 2, offset: '1234' },
        reason: 'undecodable',
        stage: DEAD_LETTER_STAGES.undecodable,
        writer: 'tributary.bronze.enrichment-jobs',
      }).headers,
    ],
    [
      'written before the Connect names',
      { 'tributary-dlq-source': 'raw.enrichment-jobs.t-1/2/1234', 'tributary-dlq-reason': 'undecodable' },
    ],
  ])('reads where a bronze dead letter (%s) came from', (_, headers) => {
    expect(deadLetterSource('dlq.raw.enrichment-jobs', 0, message('x', headers))).toEqual({
      dlqTopic: 'dlq.raw.enrichment-jobs',
      dlqPartition: 0,
      dlqOffset: '42',
      sourceTopic: 'raw.enrichment-jobs.t-1',
      sourcePartition: 2,
      sourceOffset: '1234',
      reason: 'undecodable',
    });
  });

  it('finds no source on the poller’s own letters, old or new', () => {
    const pollerLetter = deadLetter({
      message: { key: null, value: '{}' },
      reason: 'bad',
      stage: DEAD_LETTER_STAGES.polled,
      writer: 'tributary.poller.workspaces',
    });
    expect(deadLetterSource('dlq.raw.workspaces', 0, message('{}', pollerLetter.headers))).toBeUndefined();
    expect(
      deadLetterSource('dlq.raw.workspaces', 0, message('{}', { 'tributary-dlq-reason': 'bad' })),
    ).toBeUndefined();
  });
});
