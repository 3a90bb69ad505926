import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { waitFor } from '../../common/wait-for.ts';
import { createKafkaWatch } from '../../gateway/live/kafka-watch.ts';
import { createOffsetHistory } from '../../gateway/live/offset-history.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';

const infra = testInfra();

describe('gateway Kafka watch', () => {
  const kafka = createKafka(infra.kafka, uniqueName('watch-test'), testLogger, { retries: 2 });
  const group = uniqueName('watched');
  let admin: Admin;
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.deleteGroups([group]).catch(() => {});
    await admin?.disconnect();
  });

  it('goes on sampling after a topic it read is deleted', async () => {
    const [gone, next] = [uniqueName('gone'), uniqueName('next')];
    // kafkajs clients keep every topic they were asked about in later metadata requests; these
    // short-lived admins keep the test's own clients away from the deleted topic
    const withAdmin = async (work: (a: Admin) => Promise<unknown>) => {
      const a = kafka.admin();
      await a.connect();
      try {
        await work(a);
      } finally {
        await a.disconnect();
      }
    };
    await withAdmin((a) =>
      a.createTopics({ waitForLeaders: true, topics: [{ topic: gone, numPartitions: 1 }] }),
    );
    const offsets = createOffsetHistory({ retainMs: 60_000 });
    const watch = await createKafkaWatch({
      kafka,
      offsets,
      topics: [gone],
      groups: [group],
      groupPrefix: 'unused',
      excludePrefix: 'unused',
      listEveryMs: 500,
    });
    try {
      await watch.sample(Date.now());
      expect(offsets.latest(gone)).toEqual([{ topic: gone, partition: 0, high: 0, low: 0 }]);
      await withAdmin((a) => a.deleteTopics({ topics: [gone] }));
      await withAdmin(async (a) => {
        await a.createTopics({ waitForLeaders: true, topics: [{ topic: next, numPartitions: 1 }] });
        await a.setOffsets({ groupId: group, topic: next, partitions: [{ partition: 0, offset: '0' }] });
      });
      // the group's new topic makes kafkajs refresh metadata, the deleted topic included
      const groups = await waitFor(
        async () => {
          const g = await watch.sample(Date.now());
          return offsets.latest(next) ? g : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 600, what: 'a sample with the new topic' },
      );
      expect(groups).toEqual([{ group, committed: [{ topic: next, partition: 0, offset: 0 }] }]);
      await watch.sample(Date.now());
    } finally {
      await watch.close();
      await withAdmin((a) => a.deleteTopics({ topics: [next] }).catch(() => {}));
    }
  });
});
