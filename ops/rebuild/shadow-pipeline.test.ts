import { describe, expect, it } from 'vitest';
import { goldPostgresRole } from '../../consumers/gold-sinks/role.ts';
import { processorRole } from '../../consumers/processor/role.ts';
import { shadowNames } from './names.ts';
import { shadowProcessorOptions, shadowSinkOptions } from './shadow-pipeline.ts';

// A target whose names all differ from the defaults, as a test's or a second pipeline's would.
const target = {
  rawTopics: { workspaces: 'it.raw.ws', jobs: 'it.raw.jobs' },
  goldTopic: 'it.gold',
  table: 'gold.it_jobs',
  mongo: { database: 'itdb', collection: 'it_jobs' },
};
const names = shadowNames(target, 'a1b2c3d4');
const env = { TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '7000', TRIBUTARY_GOLD_BATCH_SIZE: '17' };

describe('the shadow pipeline options', () => {
  it("give the processor the shadow's names and keep the rest of its settings", () => {
    const real = processorRole.options(env);
    expect(shadowProcessorOptions(real, target, names)).toEqual({
      ...real,
      groupId: 'tributary.rebuild-gold.a1b2c3d4.processor',
      legacyTransactionalId: 'tributary.rebuild-gold.a1b2c3d4.processor.rebuild-a1b2c3d4',
      topics: {
        workspaces: 'it.raw.ws',
        jobs: 'it.raw.jobs',
        gold: names.goldTopic,
        dlq: names.processorDlqTopic,
        state: names.stateTopic,
        metrics: real.topics.metrics,
      },
    });
    expect(real.sessionTimeoutMs).toBe(7000);
  });

  it("give the sinks the shadow's topic, groups, table and collection, and keep their timings", () => {
    const real = goldPostgresRole.options(env);
    const shadow = shadowSinkOptions(real, target, names);
    expect(shadow).toEqual({
      ...real,
      topic: names.goldTopic,
      groupIds: { postgres: names.postgresGroup, mongo: names.mongoGroup },
      table: 'gold.it_jobs_shadow',
      mongo: { database: 'itdb', collection: 'it_jobs_shadow' },
    });
    expect(shadow.batchSize).toBe(17);
    expect(real.table).toBe('gold.enrichment_jobs'); // the real options are left as they were
  });
});
