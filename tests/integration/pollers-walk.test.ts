import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { waitFor } from '../../common/wait-for.ts';
import { HEADERS } from '../../contracts/headers.ts';
import { pollersOptions } from '../../producers/options.ts';
import { type RunningPollers, startPollers } from '../../producers/pollers.ts';
import type { SourceExchange } from '../../producers/source-client.ts';
import { testInfra, uniqueName } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  drain,
  duplicates,
  pollerEnv,
  rawVersions,
  readCommitted,
  startTestSource,
} from '../support/poller-harness.ts';

const infra = testInfra();
const logger = createLogger('pollers-test', 'warn');

describe('pollers: cursor walk', () => {
  const { kafka, admin, registry } = useKafkaClients('pollers-walk');

  it('publishes every version exactly once while the source changes under the walk', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startTestSource();
    const exchanges: SourceExchange[] = [];
    const env = pollerEnv(topics, source.url, { TRIBUTARY_POLL_PAGE_SIZE: '3' });
    let running: RunningPollers | undefined;
    try {
      const before = await source.versions('enrichment-jobs');
      running = await startPollers({
        infra,
        options: pollersOptions(env),
        logger,
        onExchange: (e) => exchanges.push(e),
      });
      // let the simulator tick under several multi-page walks of both feeds
      await waitFor(() => exchanges.filter((e) => e.api === 'enrichment-jobs').length >= 40, {
        timeoutMs: 90_000,
        what: '40 job page requests',
      });
      await source.admin('POST', '/simulator/pause');
      await drain(running, source);
      await running.close();

      const ws = await source.versions('workspaces');
      const jobs = await source.versions('enrichment-jobs');
      expect(jobs.valid.length).toBeGreaterThan(before.valid.length); // the feed changed during the walks
      const raw = await readCommitted(kafka, [topics.rawWorkspaces, topics.rawJobs]);
      const rawWs = raw.filter((r) => r.topic === topics.rawWorkspaces);
      const rawJobs = raw.filter((r) => r.topic === topics.rawJobs);
      const gotWs = await rawVersions(registry, rawWs);
      const gotJobs = await rawVersions(registry, rawJobs);
      expect(duplicates(gotWs)).toEqual([]);
      expect(duplicates(gotJobs)).toEqual([]);
      expect(gotWs.sort()).toEqual([...ws.valid].sort());
      expect(gotJobs.sort()).toEqual([...jobs.valid].sort());

      // keys (jobs co-partitioned by workspace) and lineage headers
      const requestIds = new Set(exchanges.map((e) => e.requestId));
      for (const r of rawWs) {
        const v = (await registry.decode(r.message.value!)) as { id: string };
        expect(r.key).toBe(v.id);
        expect(r.headers[HEADERS.source]).toBe('workspaces');
        expect(requestIds.has(r.headers[HEADERS.requestId])).toBe(true);
      }
      for (const r of rawJobs) {
        const v = (await registry.decode(r.message.value!)) as { workspace_id: string };
        expect(r.key).toBe(v.workspace_id);
        expect(r.headers[HEADERS.source]).toBe('enrichment-jobs');
        expect(Number.isNaN(Date.parse(r.headers[HEADERS.fetchedAt]!))).toBe(false);
      }
    } finally {
      await running?.close();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });

  it('writes raw topics that a plain kafkajs + confluent-schema-registry consumer decodes', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startTestSource({ TRIBUTARY_MOCK_SOURCE_PAUSED: 'true' });
    for (let i = 0; i < 10; i++) source.handle.tick();
    const plain = new Kafka({
      clientId: 'plain-consumer',
      brokers: infra.kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const consumer = plain.consumer({ groupId: uniqueName('plain-consumer') });
    let running: RunningPollers | undefined;
    try {
      const expected = [
        ...(await source.versions('workspaces')).valid,
        ...(await source.versions('enrichment-jobs')).valid,
      ];
      running = await startPollers({ infra, options: pollersOptions(pollerEnv(topics, source.url)), logger });

      const plainRegistry = new SchemaRegistry({ host: infra.registry.url });
      const decoded: Array<{ topic: string; value: Record<string, unknown> }> = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.rawWorkspaces, topics.rawJobs], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          decoded.push({ topic, value: await plainRegistry.decode(message.value!) });
        },
      });
      await waitFor(() => decoded.length >= expected.length, {
        timeoutMs: 90_000,
        what: `${expected.length} decoded records (have ${decoded.length})`,
      });
      expect(decoded.map((d) => `${d.value.id}@${d.value.updated_at}`).sort()).toEqual(expected.sort());
      const workspace = decoded.find((d) => d.topic === topics.rawWorkspaces)!.value;
      expect(workspace).toEqual({
        id: expect.any(String),
        name: expect.any(String),
        plan: expect.stringMatching(/^(free|starter|pro|enterprise)$/),
        segment: expect.any(String),
        country: expect.any(String),
        owner_email: expect.any(String),
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      });
      const job = decoded.find((d) => d.topic === topics.rawJobs)!.value;
      expect(job).toMatchObject({ workspace_id: expect.any(String), requested_count: expect.any(Number) });
    } finally {
      await consumer.disconnect();
      await running?.close();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });
});
