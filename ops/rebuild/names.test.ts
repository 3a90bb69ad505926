import { describe, expect, it } from 'vitest';
import { shadowNames } from './names.ts';

const target = {
  rawTopics: { workspaces: 'raw.workspaces', jobs: 'raw.enrichment-jobs' },
  goldTopic: 'gold.enrichment-jobs',
  table: 'gold.enrichment_jobs',
  mongo: { database: 'tributary', collection: 'enrichment_jobs' },
};

describe('shadowNames', () => {
  it('names the shadow stores after the current ones and the topics and groups after the run', () => {
    expect(shadowNames(target, 'a1b2c3d4')).toEqual({
      runId: 'a1b2c3d4',
      goldTopic: 'gold.enrichment-jobs.shadow-a1b2c3d4',
      processorDlqTopic: 'gold.enrichment-jobs.shadow-a1b2c3d4.dlq',
      sinkDlqTopic: 'dlq.gold.enrichment-jobs.shadow-a1b2c3d4',
      stateTopic: 'gold.enrichment-jobs.shadow-a1b2c3d4.state',
      processorGroup: 'tributary.rebuild-gold.a1b2c3d4.processor',
      processorInstance: 'rebuild-a1b2c3d4',
      postgresGroup: 'tributary.rebuild-gold.a1b2c3d4.postgres',
      mongoGroup: 'tributary.rebuild-gold.a1b2c3d4.mongo',
      subject: 'gold.enrichment-jobs.shadow-a1b2c3d4-value',
      table: 'gold.enrichment_jobs_shadow',
      collection: 'enrichment_jobs_shadow',
    });
  });

  it('refuses table names Postgres would truncate', () => {
    expect(() => shadowNames({ ...target, table: `gold.${'x'.repeat(57)}` }, 'id')).toThrow(/at most 56/);
    expect(shadowNames({ ...target, table: `gold.${'x'.repeat(56)}` }, 'id').table).toHaveLength(5 + 63);
    expect(() => shadowNames({ ...target, table: 'nodot' }, 'r1')).toThrow(/schema-qualified/);
  });
});
