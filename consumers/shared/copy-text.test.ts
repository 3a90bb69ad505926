import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../common/errors.ts';
import { copyLine, isoTimestamp, uuidText } from './copy-text.ts';
import { headerIsoTimestamp, kafkaTimestampIso } from './headers.ts';

describe('copyLine', () => {
  it('separates fields with tabs, ends with a newline, and writes NULL as \\N', () => {
    expect(copyLine(['a', 1, true, false, null, undefined, 2.5])).toBe('a\t1\tt\tf\t\\N\t\\N\t2.5\n');
  });
  it('escapes backslash, tab, newline and carriage return', () => {
    expect(copyLine(['a\\b\tc\nd\re', 'plain'])).toBe('a\\\\b\\tc\\nd\\re\tplain\n');
  });
  it('refuses what Postgres would reject, so the record is dead-lettered and not the batch', () => {
    expect(() => copyLine(['a\0b'])).toThrow(InvalidRecordError);
    expect(() => copyLine([Number.NaN])).toThrow(InvalidRecordError);
  });
});

describe('column values', () => {
  it('accepts UUIDs only', () => {
    expect(uuidText('0b5f8a0e-6c1d-4b8e-9d7a-1f2e3d4c5b6a')).toBe('0b5f8a0e-6c1d-4b8e-9d7a-1f2e3d4c5b6a');
    expect(() => uuidText('not-a-uuid')).toThrow(InvalidRecordError);
  });
  it('formats epoch ms within years 1-9999', () => {
    expect(isoTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(() => isoTimestamp(253_402_300_800_000)).toThrow(InvalidRecordError);
  });
  it('reads lineage timestamps leniently (null when absent, bad or out of range)', () => {
    expect(headerIsoTimestamp({ at: Buffer.from('2026-01-02T03:04:05+01:00') }, 'at')).toBe(
      '2026-01-02T02:04:05.000Z',
    );
    expect(headerIsoTimestamp({ at: 'yesterday' }, 'at')).toBeNull();
    expect(headerIsoTimestamp({}, 'at')).toBeNull();
    expect(kafkaTimestampIso('-1')).toBeNull();
    expect(kafkaTimestampIso('86400000')).toBe('1970-01-02T00:00:00.000Z');
    expect(kafkaTimestampIso('86400000')).toBe('1970-01-02T00:00:00.000Z');
  });
});
