import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import {
  dlqFormatOf,
  dlqTopics,
  REMOVED_TOPOLOGY_VARIABLES,
  readTopology,
  TOPICS,
  TopologyEnv,
  topologyTopics,
} from './topology.ts';

describe('readTopology', () => {
  it('defaults to the declared topics and the documented groups and stores', () => {
    const t = readTopology({});
    expect(t.topics).toEqual({
      rawWorkspaces: 'raw.workspaces',
      rawJobs: 'raw.enrichment-jobs',
      sourceDlqWorkspaces: 'dlq.source.workspaces',
      sourceDlqJobs: 'dlq.source.enrichment-jobs',
      rawDlqWorkspaces: 'dlq.raw.workspaces',
      rawDlqJobs: 'dlq.raw.enrichment-jobs',
      gold: 'gold.enrichment-jobs',
      goldDlq: 'dlq.gold.enrichment-jobs',
      pollerState: '_tributary.poller-state',
      processorState: '_tributary.processor-state',
      metrics: '_tributary.metrics',
      walks: '_tributary.walks',
    });
    expect(t.groups).toEqual({
      bronzeWorkspaces: 'tributary.bronze.workspaces',
      bronzeJobs: 'tributary.bronze.enrichment-jobs',
      processor: 'tributary.processor',
      goldPostgres: 'tributary.gold.postgres',
      goldMongo: 'tributary.gold.mongo',
      walks: 'tributary.gateway.walks',
    });
    expect(t.lag).toEqual({ groups: [], groupPrefix: 'tributary.' });
    expect(t.gold).toEqual({
      table: 'gold.enrichment_jobs',
      mongo: { database: 'tributary', collection: 'enrichment_jobs' },
    });
    // the defaults are exactly the declared topics, each once
    expect(topologyTopics(t).map((s) => s.name)).toEqual(TOPICS.map((s) => s.name));
  });

  it('derives the consumers’ dead-letter topics from the topics they read', () => {
    const t = readTopology({ TRIBUTARY_RAW_WORKSPACES_TOPIC: 'a.ws', TRIBUTARY_GOLD_TOPIC: 'a.gold' });
    expect(t.topics.rawDlqWorkspaces).toBe('dlq.a.ws');
    // the processor keeps its own setting; the sinks' dlq.<gold> is declared beside it
    expect(dlqTopics(t)).toEqual([
      'dlq.a.gold',
      'dlq.a.ws',
      'dlq.gold.enrichment-jobs',
      'dlq.raw.enrichment-jobs',
      'dlq.source.enrichment-jobs',
      'dlq.source.workspaces',
    ]);
  });

  it('gives every dead-letter topic one value format: JSON from the pollers, Avro from the consumers', () => {
    const t = readTopology({});
    expect(Object.fromEntries(dlqTopics(t).map((d) => [d, dlqFormatOf(t, d)]))).toEqual({
      'dlq.source.workspaces': 'json',
      'dlq.source.enrichment-jobs': 'json',
      'dlq.raw.workspaces': 'avro',
      'dlq.raw.enrichment-jobs': 'avro',
      'dlq.gold.enrichment-jobs': 'avro',
    });
    expect(dlqFormatOf(t, 'raw.workspaces')).toBeUndefined();
    const renamed = readTopology({ TRIBUTARY_DLQ_JOBS_TOPIC: 'x.letters', TRIBUTARY_GOLD_TOPIC: 'g' });
    expect(dlqFormatOf(renamed, 'x.letters')).toBe('json');
    expect(dlqFormatOf(renamed, 'dlq.g')).toBe('avro');
  });

  it.each([
    ['TRIBUTARY_RAW_JOBS_TOPIC', 'raw jobs'],
    ['TRIBUTARY_METRICS_TOPIC', 'metrics/topic'],
    ['TRIBUTARY_GOLD_TABLE', 'enrichment_jobs'],
    ['TRIBUTARY_GOLD_TABLE', 'a.b.c'],
  ])('stops on a bad %s, naming the field and the fix', (field, value) => {
    const attempt = () => readTopology({ [field]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      expect.objectContaining({ field, fix: expect.stringContaining(`set ${field} to`) }),
    );
  });

  it.each(Object.entries(REMOVED_TOPOLOGY_VARIABLES))(
    'stops when the removed %s is still set, naming what replaces it',
    (removed, replacement) => {
      const attempt = () => readTopology({ [removed]: 'gold.enrichment_jobs' });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(
        expect.objectContaining({ field: removed, fix: expect.stringContaining(replacement) }),
      );
      expect(Object.keys(TopologyEnv.properties)).not.toContain(removed);
    },
  );

  it('names the gold table in one setting', () => {
    expect(readTopology({ TRIBUTARY_GOLD_TABLE: 'gold.mine' }).gold.table).toBe('gold.mine');
    // an empty value is unset, as for every other setting
    expect(() => readTopology({ TRIBUTARY_OPS_GOLD_TABLE: '' })).not.toThrow();
  });
});
