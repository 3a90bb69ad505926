import { describe, expect, it } from 'vitest';
import { quoteQualified, splitQualified } from './pg-names.ts';

describe('quoteQualified', () => {
  it('quotes each part of schema.name', () => {
    expect(quoteQualified('gold.enrichment_jobs')).toBe('"gold"."enrichment_jobs"');
    expect(quoteQualified('bronze', 'work"spaces')).toBe('"bronze"."work""spaces"');
  });

  it('refuses a name that is not schema-qualified', () => {
    for (const bad of ['jobs', 'a.b.c', '.jobs', 'gold.'])
      expect(() => quoteQualified(bad), bad).toThrow(/schema/);
    expect(splitQualified('gold.x')).toEqual(['gold', 'x']);
  });
});
