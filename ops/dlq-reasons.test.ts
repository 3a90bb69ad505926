import { describe, expect, it } from 'vitest';
import { ReasonTally, reasonPattern } from './dlq-reasons.ts';

describe('reasonPattern', () => {
  it('replaces ids, quoted values and numbers but keeps field names', () => {
    expect(reasonPattern('enriched_count + failed_count (6) exceeds requested_count (5)')).toBe(
      'enriched_count + failed_count (N) exceeds requested_count (N)',
    );
    expect(reasonPattern('updated_at: "yesterday" is not an ISO-8601 timestamp')).toBe(
      'updated_at: "…" is not an ISO-8601 timestamp',
    );
    expect(reasonPattern('schema id 12 is unknown for 1b4e28ba-2fa1-11d2-883f-0016d3cca427')).toBe(
      'schema id N is unknown for <id>',
    );
    expect(reasonPattern('field_2 is an int32')).toBe('field_2 is an int32');
  });
});

describe('ReasonTally', () => {
  it('ranks patterns by count and keeps the first example of each', () => {
    const t = new ReasonTally();
    t.add('requested_count is negative (-1)');
    t.add('status moved backward from processing to queued');
    t.add('requested_count is negative (-7)');
    t.add(undefined);
    expect(t.top(2)).toEqual([
      { pattern: 'requested_count is negative (N)', count: 2, example: 'requested_count is negative (-1)' },
      {
        pattern: '(no reason header)',
        count: 1,
        example: '(no reason header)',
      },
    ]);
  });
});
