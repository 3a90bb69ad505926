import { describe, expect, it } from 'vitest';
import { describeTarget, parseReplayTarget } from './replay-target.ts';

describe('parseReplayTarget', () => {
  it('reads earliest, latest and ISO timestamps with a zone', () => {
    expect(parseReplayTarget('earliest')).toEqual({ kind: 'earliest' });
    expect(parseReplayTarget(' latest ')).toEqual({ kind: 'latest' });
    expect(parseReplayTarget('2026-01-31T12:00:00Z')).toEqual({
      kind: 'timestamp',
      ms: Date.UTC(2026, 0, 31, 12),
      text: '2026-01-31T12:00:00.000Z',
    });
    expect(parseReplayTarget('2026-01-31T14:00+02:00')).toMatchObject({ ms: Date.UTC(2026, 0, 31, 12) });
    expect(parseReplayTarget('2026-01-31')).toMatchObject({ ms: Date.UTC(2026, 0, 31) });
  });

  it('reads explicit offsets, topic names with dots and dashes included', () => {
    const t = parseReplayTarget('raw.enrichment-jobs:0:12,raw.enrichment-jobs:2:0');
    expect(t).toEqual({
      kind: 'offsets',
      offsets: [
        { topic: 'raw.enrichment-jobs', partition: 0, offset: '12' },
        { topic: 'raw.enrichment-jobs', partition: 2, offset: '0' },
      ],
    });
    expect(describeTarget(t)).toBe('raw.enrichment-jobs:0:12,raw.enrichment-jobs:2:0');
  });

  it('rejects what it cannot read, saying what is expected', () => {
    expect(() => parseReplayTarget('yesterday')).toThrow(/earliest, latest, an ISO timestamp/);
    expect(() => parseReplayTarget('2026-01-31T12:00:00')).toThrow(/no time zone/);
    expect(() => parseReplayTarget('2026-02-31T12:00:00Z')).toThrow(/not a valid date/);
    expect(() => parseReplayTarget('2026-13-01')).toThrow(/not a valid date/);
    expect(() => parseReplayTarget('t:0')).toThrow(/topic:partition:offset/);
    expect(() => parseReplayTarget('t:x:1')).toThrow(/topic:partition:offset/);
    expect(() => parseReplayTarget('t:0:-1')).toThrow(/topic:partition:offset/);
    expect(() => parseReplayTarget('t:0:1,t:0:2')).toThrow(/t:0 is given twice/);
  });
});
