import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { GroupOffsets, KafkaWatch } from './kafka-watch.ts';
import { withLagGauges } from './lag-gauges.ts';
import { createOffsetHistory } from './offset-history.ts';

describe('kafka-exporter lag gauges', () => {
  it('exports lag, offsets and lag seconds per group/topic/partition, and drops a group that is gone', async () => {
    const offsets = createOffsetHistory({ retainMs: 60_000 });
    let groups: GroupOffsets[] = [
      {
        group: 'tributary.gold-postgres',
        committed: [
          { topic: 'gold', partition: 0, offset: 90 },
          { topic: 'gold', partition: 1, offset: 50 },
          { topic: 'gold', partition: 2, offset: -1 },
        ],
      },
    ];
    const fake: KafkaWatch = {
      async sample(now) {
        offsets.record(now, [
          { topic: 'gold', partition: 0, high: 100, low: 0 },
          { topic: 'gold', partition: 1, high: 50, low: 0 },
          { topic: 'gold', partition: 2, high: 7, low: 0 },
          { topic: 'dlq.gold', partition: 0, high: 3, low: 1 },
        ]);
        return groups;
      },
      close: async () => {},
    };
    const registry = new client.Registry();
    const watch = withLagGauges(fake, offsets, registry, ['dlq.gold']);
    expect(await watch.sample(1000)).toBe(groups);
    const text = await registry.metrics();
    const lines = text.split('\n').filter((l) => !l.startsWith('#') && l !== '');
    expect(lines).toEqual([
      'kafka_consumergroup_lag{consumergroup="tributary.gold-postgres",topic="gold",partition="0"} 10',
      'kafka_consumergroup_lag{consumergroup="tributary.gold-postgres",topic="gold",partition="1"} 0',
      'kafka_consumergroup_lag_sum{consumergroup="tributary.gold-postgres",topic="gold"} 10',
      'kafka_consumergroup_current_offset{consumergroup="tributary.gold-postgres",topic="gold",partition="0"} 90',
      'kafka_consumergroup_current_offset{consumergroup="tributary.gold-postgres",topic="gold",partition="1"} 50',
      'kafka_topic_partition_current_offset{topic="dlq.gold",partition="0"} 3',
      'kafka_topic_partition_current_offset{topic="gold",partition="0"} 100',
      'kafka_topic_partition_current_offset{topic="gold",partition="1"} 50',
      'kafka_topic_partition_current_offset{topic="gold",partition="2"} 7',
      'kafka_topic_partition_oldest_offset{topic="dlq.gold",partition="0"} 1',
      'kafka_topic_partition_oldest_offset{topic="gold",partition="0"} 0',
      'kafka_topic_partition_oldest_offset{topic="gold",partition="1"} 0',
      'kafka_topic_partition_oldest_offset{topic="gold",partition="2"} 0',
      'tributary_consumergroup_lag_seconds{consumergroup="tributary.gold-postgres"} 0',
    ]);
    groups = [];
    await watch.sample(2000);
    expect(await registry.metrics()).not.toContain('consumergroup="tributary.gold-postgres"');
  });
});
