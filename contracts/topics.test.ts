import { describe, expect, it } from 'vitest';
import { API_NAMES } from '../producers/apis.ts';
import { TOPICS, topicConfigs } from './topics.ts';

describe('topic declarations', () => {
  it('co-partitions the raw, gold and changelog topics and compacts the keyed-state topics', () => {
    const byName = new Map(topicConfigs(6).map((t) => [t.topic, t]));
    for (const name of [
      'raw.workspaces',
      'raw.enrichment-jobs',
      'gold.enrichment-jobs',
      '_tributary.processor-state',
    ]) {
      expect(byName.get(name)?.numPartitions, name).toBe(6);
    }
    for (const name of ['gold.enrichment-jobs', '_tributary.poller-state', '_tributary.processor-state']) {
      expect(byName.get(name)?.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    }
    // one partition per polled API: the pollers' group assigns them (producers/ownership.ts)
    expect(byName.get('_tributary.poller-state')?.numPartitions).toBe(API_NAMES.length);
    expect(new Set(TOPICS.map((t) => t.name)).size).toBe(TOPICS.length);
  });

  it('has a dead-letter topic for every data topic a role consumes', () => {
    const names = new Set(TOPICS.map((t) => t.name));
    for (const t of ['raw.workspaces', 'raw.enrichment-jobs', 'gold.enrichment-jobs'])
      expect(names.has(`dlq.${t}`), t).toBe(true);
  });
});
