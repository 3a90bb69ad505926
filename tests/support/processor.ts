import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka, Message } from 'kafkajs';
import { registerValueSchema } from '../../common/registry.ts';
import { goldRecord } from '../../consumers/processor/gold-record.ts';
import type { EnrichmentJob, EnrichmentJobGold, Workspace } from '../../schemas/generated/types.ts';
import { uniqueName } from './infra.ts';
import { type ConsumedRecord, createTopics } from './kafka.ts';

/** Topic names for one processor test, and the env that points the processor at them. */
export function processorTopics() {
  const id = uniqueName('proc');
  const topics = {
    workspaces: `${id}.raw.workspaces`,
    jobs: `${id}.raw.jobs`,
    gold: `${id}.gold`,
    dlq: `${id}.dlq.gold`,
    state: `${id}.state`,
    metrics: `${id}.metrics`,
  };
  const env = {
    TRIBUTARY_PROCESSOR_GROUP: `${id}.group`,
    TRIBUTARY_RAW_WORKSPACES_TOPIC: topics.workspaces,
    TRIBUTARY_RAW_JOBS_TOPIC: topics.jobs,
    TRIBUTARY_GOLD_TOPIC: topics.gold,
    TRIBUTARY_GOLD_DLQ_TOPIC: topics.dlq,
    TRIBUTARY_PROCESSOR_STATE_TOPIC: topics.state,
    TRIBUTARY_METRICS_TOPIC: topics.metrics,
    // A killed instance's partitions move after this long: the broker's minimum, for fast tests.
    TRIBUTARY_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
  };
  return { topics, env, group: env.TRIBUTARY_PROCESSOR_GROUP };
}

/** Publishes raw records the way the pollers do: Avro, keyed by workspace id, in one transaction. */
export async function publishRaw(
  kafka: Kafka,
  registry: SchemaRegistry,
  topics: { workspaces: string; jobs: string },
  records: Array<
    { workspace: Workspace } | { job: EnrichmentJob } | { garbage: string; topic: 'workspaces' | 'jobs' }
  >,
): Promise<void> {
  const wsId = await registerValueSchema(registry, topics.workspaces, 'workspace');
  const jobId = await registerValueSchema(registry, topics.jobs, 'enrichment-job');
  const producer = kafka.producer({
    transactionalId: uniqueName('test-raw'),
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const out = await Promise.all(
      records.map(async (r): Promise<{ topic: string; message: Message }> => {
        if ('workspace' in r)
          return {
            topic: topics.workspaces,
            message: { key: r.workspace.id, value: await registry.encode(wsId, r.workspace) },
          };
        if ('job' in r)
          return {
            topic: topics.jobs,
            message: { key: r.job.workspace_id, value: await registry.encode(jobId, r.job) },
          };
        return { topic: topics[r.topic], message: { key: 'garbage', value: Buffer.from(r.garbage) } };
      }),
    );
    const tx = await producer.transaction();
    // One send per record keeps the order of `records` within each partition.
    for (const o of out) await tx.send({ topic: o.topic, messages: [o.message] });
    await tx.commit();
  } finally {
    await producer.disconnect();
  }
}

/** The join the processor should converge to, computed independently from the latest versions. */
export function expectedGold(
  workspaces: Workspace[],
  jobs: EnrichmentJob[],
): Map<string, Omit<EnrichmentJobGold, 'processed_at'>> {
  const latestWs = new Map<string, Workspace>();
  for (const w of workspaces)
    if ((latestWs.get(w.id)?.updated_at ?? -1) < w.updated_at) latestWs.set(w.id, w);
  const latestJob = new Map<string, EnrichmentJob>();
  for (const j of jobs) if ((latestJob.get(j.id)?.updated_at ?? -1) < j.updated_at) latestJob.set(j.id, j);
  const out = new Map<string, Omit<EnrichmentJobGold, 'processed_at'>>();
  for (const j of latestJob.values()) {
    const { processed_at: _, ...rest } = goldRecord(j, latestWs.get(j.workspace_id), 0);
    out.set(j.id, rest);
  }
  return out;
}

/** Latest gold value per key (by topic order within the key's partition). */
export function latestGold(records: ConsumedRecord[]): Map<string, Omit<EnrichmentJobGold, 'processed_at'>> {
  const out = new Map<string, Omit<EnrichmentJobGold, 'processed_at'>>();
  for (const r of records) {
    if (!r.value || !r.key) continue;
    const { processed_at: _, ...rest } = r.value as EnrichmentJobGold;
    out.set(r.key, rest);
  }
  return out;
}

/** Creates a processor test's topics with the production configs (compaction where it matters). */
export async function createProcessorTopics(
  admin: Admin,
  topics: ReturnType<typeof processorTopics>['topics'],
) {
  await createTopics(admin, [
    { topic: topics.workspaces },
    { topic: topics.jobs },
    { topic: topics.gold, compact: true },
    { topic: topics.dlq, partitions: 1 },
    { topic: topics.state, compact: true },
    { topic: topics.metrics, partitions: 1 },
  ]);
}
