import type { Admin } from 'kafkajs';
import { TributaryError } from '../common/errors.ts';
import { API_NAMES } from './apis.ts';

/**
 * The poller-state topic needs one partition per API: the pollers' group assigns those partitions,
 * and that assignment is which process polls which API (producers/ownership.ts). A topic created
 * before (one partition) is refused with the fix; `tributary infra up` adds the partitions, and the
 * states already written stay readable (state-store.ts reads a state's old place until the poller
 * commits to its own partition).
 */
export async function assertStatePartitions(admin: Admin, topic: string): Promise<void> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const count = topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  if (count >= API_NAMES.length) return;
  throw new TributaryError(
    `the poller state topic ${topic} has ${count} partition(s); the pollers need one per API (${API_NAMES.length}: ${API_NAMES.join(', ')}), ` +
      'because the pollers’ consumer group assigns these partitions to decide which process polls which API',
    {
      fix:
        `run \`tributary infra up\` (it adds the missing partitions; the committed states are kept), or ` +
        `kafka-topics.sh --bootstrap-server <brokers> --alter --topic ${topic} --partitions ${API_NAMES.length}`,
    },
  );
}
