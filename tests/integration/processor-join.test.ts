import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createLogger } from '../../common/logger.ts';
import { createRoleMetrics } from '../../common/metrics.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { processorOptions } from '../../consumers/processor/options.ts';
import { createStreamProcessor, type StreamProcessor } from '../../consumers/processor/processor.ts';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { type ConsumedRecord, consumeUntil, dropTopics } from '../support/kafka.ts';
import {
  createProcessorTopics,
  expectedGold,
  latestGold,
  processorTopics,
  publishRaw,
} from '../support/processor.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('processor-test'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();

describe('stream processor join', () => {
  const { topics, env } = processorTopics();
  let processor: StreamProcessor;

  beforeAll(async () => {
    await admin.connect();
    await createProcessorTopics(admin, topics);
  });
  afterAll(async () => {
    await processor?.close();
    await dropTopics(admin, Object.values(topics));
    await admin.disconnect();
  });

  it('joins children before parents and parent updates, ignores replays, and dead-letters rule breakers', async () => {
    const ws = workspace({ updated_at: 100 });
    const other = workspace({ updated_at: 100, name: 'Other' });
    const orphanFirst = job({ workspace_id: ws.id, updated_at: 50 }); // arrives before its workspace
    const orphanDone = {
      ...orphanFirst,
      status: 'completed' as const,
      enriched_count: 90,
      failed_count: 10,
      updated_at: 300,
      finished_at: 300,
    };
    const second = job({ workspace_id: ws.id, updated_at: 120, status: 'processing' });
    const backward = { ...second, status: 'queued' as const, updated_at: 130 };
    const tooMany = job({
      workspace_id: other.id,
      requested_count: 5,
      enriched_count: 4,
      failed_count: 2,
      updated_at: 140,
    });
    const renamed = { ...ws, name: 'Acme Renamed', plan: 'enterprise' as const, updated_at: 200 };
    const neverSeenWs = job({ updated_at: 10 });

    processor = createStreamProcessor({
      kafka,
      registry,
      options: processorOptions(env),
      metrics: createRoleMetrics('processor'),
      logger: createLogger('processor-test', 'warn'),
    });
    await processor.start();

    // Phase 1: jobs whose workspace has not arrived are emitted unresolved.
    await publishRaw(kafka, registry, topics, [{ job: orphanFirst }, { job: neverSeenWs }]);
    const unresolved = await consumeUntil(kafka, [topics.gold], (r) => r.length >= 2, { registry });
    expect(unresolved.map((r) => (r.value as EnrichmentJobGold).workspace_resolved)).toEqual([false, false]);

    // Phase 2: the workspace arrives, is renamed, and older versions and replays are mixed in.
    await publishRaw(kafka, registry, topics, [
      { workspace: ws },
      { workspace: other },
      { job: second },
      { job: backward },
      { job: tooMany },
      { garbage: 'not avro', topic: 'jobs' },
      { workspace: renamed },
      { workspace: ws }, // replay of an older version: ignored
      { job: orphanDone },
      { job: orphanFirst }, // replay: ignored
    ]);

    const expected = expectedGold([ws, other, renamed], [orphanFirst, orphanDone, second, neverSeenWs]);
    const gold = await consumeUntil(
      kafka,
      [topics.gold],
      (records) => {
        const latest = latestGold(records);
        return [...expected].every(([k, v]) => JSON.stringify(latest.get(k)) === JSON.stringify(v));
      },
      { registry },
    );
    const latest = latestGold(gold);
    expect(latest).toEqual(expected);
    expect(latest.get(neverSeenWs.id)).toMatchObject({ workspace_resolved: false, workspace_name: null });
    expect(latest.get(orphanFirst.id)).toMatchObject({
      workspace_name: 'Acme Renamed',
      workspace_plan: 'enterprise',
      status: 'completed',
    });

    // The orphan was first unresolved, then re-emitted once the workspace arrived; across the two
    // raw topics the order is not defined, so only the first and the last emission are fixed.
    const orphan = gold.filter((r) => r.key === orphanFirst.id).map((r) => r.value as EnrichmentJobGold);
    expect(orphan[0]).toMatchObject({ workspace_resolved: false, status: 'queued' });
    expect(orphan.at(-1)).toMatchObject({
      workspace_resolved: true,
      workspace_name: 'Acme Renamed',
      status: 'completed',
    });
    // Exactly once: no (job, job version, workspace version) is emitted twice.
    const emitted = gold
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length);

    const dlq = await consumeUntil(kafka, [topics.dlq], (r) => r.length >= 3);
    const letters = dlq
      .map((r) => ({ ...readDeadLetter(r.headers), record: r }))
      .sort((a, b) => (a.reason ?? '').localeCompare(b.reason ?? ''));
    expect(letters.map((l) => l.reason)).toEqual([
      'enriched_count + failed_count (6) exceeds requested_count (5)',
      'status moved backward from processing to queued',
      expect.stringMatching(/^undecodable: /),
    ]);
    expect(letters.map((l) => l.stage)).toEqual(['TASK_PUT', 'TASK_PUT', 'VALUE_CONVERTER']);
    for (const l of letters) {
      expect(l.writer).toBe(env.TRIBUTARY_PROCESSOR_GROUP);
      expect(l.from?.topic).toBe(topics.jobs);
    }
    // Every letter is the input record unchanged: the rule breakers' Confluent Avro bytes included.
    const inputOf = (l: (typeof letters)[number], records: ConsumedRecord[]) =>
      records.find((r) => r.partition === l.from!.partition && r.offset === l.from!.offset);
    const jobsIn = await consumeUntil(kafka, [topics.jobs], (r) => letters.every((l) => inputOf(l, r)));
    for (const l of letters) {
      const input = inputOf(l, jobsIn)!;
      expect(l.record.message.key).toEqual(input.message.key);
      expect(l.record.message.value).toEqual(input.message.value);
    }
    expect(letters[0]!.record.message.value![0]).toBe(0); // the magic byte of Confluent Avro
  });
});
