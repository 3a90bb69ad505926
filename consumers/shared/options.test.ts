import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import { bronzeOptions } from '../bronze/options.ts';
import { goldSinksOptions } from '../gold-sinks/options.ts';

describe('consumer options', () => {
  it('defaults to the topology’s topics and groups (contracts/topology.ts)', () => {
    const bronze = bronzeOptions({});
    expect(bronze.topics).toEqual([
      {
        name: 'workspaces',
        topic: 'raw.workspaces',
        dlqTopic: 'dlq.raw.workspaces',
        groupId: 'tributary.bronze.workspaces',
      },
      {
        name: 'enrichment-jobs',
        topic: 'raw.enrichment-jobs',
        dlqTopic: 'dlq.raw.enrichment-jobs',
        groupId: 'tributary.bronze.enrichment-jobs',
      },
    ]);
    const gold = goldSinksOptions({});
    expect(gold).toMatchObject({
      topic: 'gold.enrichment-jobs',
      dlqTopic: 'dlq.gold.enrichment-jobs',
      table: 'gold.enrichment_jobs',
      groupIds: { postgres: 'tributary.gold.postgres', mongo: 'tributary.gold.mongo' },
      mongo: { database: 'tributary', collection: 'enrichment_jobs' },
      sinks: ['postgres', 'mongo'],
    });
  });

  it('runs one raw topic when TRIBUTARY_BRONZE_TOPICS names it', () => {
    expect(bronzeOptions({ TRIBUTARY_BRONZE_TOPICS: 'enrichment-jobs' }).topics.map((t) => t.name)).toEqual([
      'enrichment-jobs',
    ]);
  });

  it('names the field of an invalid setting', () => {
    expect(() => bronzeOptions({ TRIBUTARY_BRONZE_TOPICS: 'workspaces,jobs' })).toThrow(
      expect.objectContaining({ field: 'TRIBUTARY_BRONZE_TOPICS' }),
    );
    expect(() => bronzeOptions({ TRIBUTARY_BRONZE_BATCH_SIZE: '0' })).toThrow(ConfigError);
    expect(() =>
      goldSinksOptions({
        TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: '6000',
        TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: '3000',
      }),
    ).toThrow(expect.objectContaining({ field: 'TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS' }));
  });
});
