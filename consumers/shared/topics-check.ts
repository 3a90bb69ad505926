import type { Kafka } from 'kafkajs';
import { TributaryError } from '../../common/errors.ts';

/**
 * Fails fast, naming the topics and the fix, when a topic a role reads or dead-letters to is
 * missing: the brokers do not auto-create topics, so a consumer would otherwise retry forever and a
 * dead letter could never be sent.
 */
export async function assertTopicsExist(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new TributaryError(`missing Kafka topic(s): ${missing.join(', ')}`, {
        retriable: false,
        fix: 'run `tributary infra up` (it creates the pipeline topics), create them, or fix the TRIBUTARY_*_TOPIC settings',
      });
    }
  } finally {
    await admin.disconnect();
  }
}
