import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createTopicLimits, sendWithinLimits } from '../../common/kafka-limits.ts';
import { createLogger } from '../../common/logger.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { processorOptions } from '../../consumers/processor/options.ts';
import { createStreamProcessor, type StreamProcessor } from '../../consumers/processor/processor.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, groupCaughtUp } from '../support/kafka.ts';
import { createProcessorTopics, expectedGold, latestGold, processorTopics } from '../support/processor.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('processor-large-test'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();

/**
 * The wedge of issue 10: a backlog makes one input batch large, and its gold records, changelog
 * entries and dead letters went out in one produce request that the broker refused; the
 * transaction aborted and the same batch was refused again forever. The output topics here get a
 * 64 KiB max.message.bytes, so the 2,000 jobs of one workspace (~0.5 MB of gold) need many requests.
 */
describe('stream processor with output larger than one request', () => {
  const { topics, env, group } = processorTopics();
  let processor: StreamProcessor | undefined;
  const LIMIT = 64 * 1024;

  beforeAll(async () => {
    await admin.connect();
    await createProcessorTopics(admin, topics);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [topics.gold, topics.state, topics.dlq].map((name) => ({
        type: 2, // ConfigResourceTypes.TOPIC
        name,
        configEntries: [{ name: 'max.message.bytes', value: String(LIMIT) }],
      })),
    });
  });
  afterAll(async () => {
    await processor?.close();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect();
  });

  it('joins a backlog whose gold, changelog and dead letters exceed the topics limit, exactly once', async () => {
    const ws = workspace({ updated_at: 100 });
    const jobs = Array.from({ length: 2000 }, (_, i) =>
      job({ workspace_id: ws.id, updated_at: 10 + (i % 50) }),
    );
    const renamed = { ...ws, name: 'Renamed', updated_at: 200 };
    // The whole backlog is waiting before the processor starts, as after downtime.
    const wsSchema = await registerValueSchema(registry, topics.workspaces, 'workspace');
    const jobSchema = await registerValueSchema(registry, topics.jobs, 'enrichment-job');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const limits = createTopicLimits({ admin });
      const send = (topicMessages: Parameters<typeof producer.sendBatch>[0]['topicMessages']) =>
        producer.sendBatch({ acks: -1, topicMessages });
      const jobMessages = await Promise.all(
        jobs.map(async (j) => ({ key: ws.id, value: await registry.encode(jobSchema, j) })),
      );
      await sendWithinLimits(limits, [{ topic: topics.jobs, messages: jobMessages }], send);
      const wsMessages = await Promise.all(
        [ws, renamed].map(async (w) => ({ key: w.id, value: await registry.encode(wsSchema, w) })),
      );
      await sendWithinLimits(limits, [{ topic: topics.workspaces, messages: wsMessages }], send);
    } finally {
      await producer.disconnect();
    }

    processor = createStreamProcessor({
      kafka,
      registry,
      options: processorOptions({
        ...env,
        TRIBUTARY_PROCESSOR_MAX_BYTES_PER_PARTITION: String(8 * 1024 * 1024),
      }),
      metrics: createRoleMetrics('processor'),
      logger: createLogger('processor-large-test', 'warn'),
    });
    await processor.start();

    const expected = expectedGold([ws, renamed], jobs);
    const gold = await consumeUntil(
      kafka,
      [topics.gold],
      (records) => {
        const latest = latestGold(records);
        return (
          latest.size === expected.size && [...latest.values()].every((g) => g.workspace_name === 'Renamed')
        );
      },
      { registry, timeoutMs: 120_000 },
    );
    expect(latestGold(gold)).toEqual(expected);
    const emitted = gold
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length);
    await waitFor(() => groupCaughtUp(admin, group, [topics.workspaces, topics.jobs]), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the processor group to commit the whole backlog',
    });
  });
});
