import type { Admin } from 'kafkajs';
import { addPartitionsReady, createTopicsReady, type TopicLifecycleOptions } from '../common/topic-admin.ts';
import { TOPICS, type TopicSpec, topicConfigs } from '../contracts/topics.ts';

/**
 * Creates the topics that do not exist yet and returns once all of them are usable: leaders elected
 * and answering (common/topic-admin.ts). The topics are declared in contracts/topics.ts. Existing
 * topics are left as they are, except that a topic declared with a fixed partition count gets the
 * partitions it lacks (the poller-state topic had one before it had one per API). Returns the
 * created names.
 */
export async function ensureTopics(
  admin: Admin,
  partitions: number,
  specs: readonly TopicSpec[] = TOPICS,
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  const created = await createTopicsReady(admin, topicConfigs(partitions, specs), opts);
  const fixed = specs.flatMap((t) =>
    typeof t.partitions === 'number' ? [{ topic: t.name, count: t.partitions }] : [],
  );
  await addPartitionsReady(admin, fixed, opts);
  return created;
}
