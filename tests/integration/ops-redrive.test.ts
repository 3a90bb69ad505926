import { type KafkaMessage, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createTopicLimits } from '../../common/kafka-limits.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { createDeadLetterQueue } from '../../consumers/shared/dead-letter.ts';
import { DEAD_LETTER_STAGES, deadLetter } from '../../contracts/dead-letter.ts';
import { DEAD_LETTER_HEADERS, HEADERS, LEGACY_DEAD_LETTER_HEADERS } from '../../contracts/headers.ts';
import type { Workspace } from '../../schemas/generated/types.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, createTopics, dropTopics } from '../support/kafka.ts';
import { runCli } from '../support/ops-cli.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('ops-redrive-test'), testLogger);
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const topics: string[] = [];

beforeAll(async () => {
  await admin.connect();
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await dropTopics(admin, topics);
  await admin.disconnect();
});

/** A workspace as the source API sends it (ISO timestamps), which is what the pollers dead-letter. */
const apiJson = (w: Workspace, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...w,
    created_at: new Date(w.created_at).toISOString(),
    updated_at: new Date(w.updated_at).toISOString(),
    ...over,
  });

describe('tributary dlq redrive', () => {
  it('re-injects fixed dead letters into their source topics exactly once, and leaves the still invalid ones', async () => {
    const ws = uniqueName('ops-redrive.raw.workspaces');
    const jobs = uniqueName('ops-redrive.raw.jobs');
    const dlq = `dlq.${ws}`;
    topics.push(ws, jobs, dlq);
    await createTopics(admin, [{ topic: ws }, { topic: jobs }, { topic: dlq, partitions: 1 }]);
    const env = { TRIBUTARY_RAW_WORKSPACES_TOPIC: ws, TRIBUTARY_RAW_JOBS_TOPIC: jobs };
    const fixedByPoller = workspace({ name: 'from the poller DLQ' });
    const stillInvalid = workspace({ name: 'still invalid' });
    const fromBronze = workspace({ name: 'refused by an old bronze' });
    const ruleBreaker = job({ workspace_id: fromBronze.id, updated_at: Date.UTC(2026, 0, 3) });
    const lineage = {
      [HEADERS.source]: 'workspaces',
      [HEADERS.requestId]: 'req-1',
      [HEADERS.fetchedAt]: '2026-01-01T00:00:00.000Z',
    };

    // 1. Poller dead letters: the API's raw JSON, one now valid (written with today's headers),
    //    one still not (written with the headers of older letters).
    await producer.send({
      topic: dlq,
      messages: [
        deadLetter({
          message: { key: fixedByPoller.id, value: apiJson(fixedByPoller), headers: lineage },
          reason: 'was refused by an older mapper',
          stage: DEAD_LETTER_STAGES.polled,
          writer: 'tributary.poller.workspaces',
        }),
        {
          key: stillInvalid.id,
          value: apiJson(stillInvalid, { plan: 'platinum' }),
          headers: {
            ...lineage,
            [LEGACY_DEAD_LETTER_HEADERS.reason]: 'plan: "platinum" is not a valid enum value',
          },
        },
      ],
    });
    // 2. A bronze dead letter, written by the real dead-letter code: the original Avro bytes.
    const wsSchema = await registerValueSchema(registry, ws, 'workspace');
    const avro = await registry.encode(wsSchema, fromBronze);
    await createDeadLetterQueue({
      producer,
      groupId: 'tributary.bronze.workspaces',
      limits: createTopicLimits({ kafka }),
    }).send([
      {
        topic: ws,
        partition: 1,
        reason: 'undecodable: schema id was unknown',
        stage: DEAD_LETTER_STAGES.undecodable,
        message: {
          key: Buffer.from(fromBronze.id),
          value: avro,
          headers: lineage,
          offset: '42',
          timestamp: '0',
          attributes: 0,
        } as KafkaMessage,
      },
    ]);
    // 3. An older processor dead letter: the job as JSON, from the jobs topic.
    await producer.send({
      topic: dlq,
      messages: [
        {
          key: ruleBreaker.id,
          value: JSON.stringify(ruleBreaker),
          headers: {
            [LEGACY_DEAD_LETTER_HEADERS.source]: `${jobs}/0/3`,
            [LEGACY_DEAD_LETTER_HEADERS.reason]: 'status moved backward',
          },
        },
      ],
    });

    const first = await runCli(['dlq', 'redrive', dlq, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ read: 4, reinjected: 3, byTopic: { [ws]: 2, [jobs]: 1 } });
    expect(report.left).toEqual([
      {
        partition: 0,
        offset: '1',
        topic: ws,
        reasons: ['plan: "platinum" is not a valid enum value (free, starter, pro, enterprise)'],
      },
    ]);

    const second = await runCli(['dlq', 'redrive', dlq, '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ read: 0, reinjected: 0, left: [] });

    // A sentinel written after both runs: once it is read, everything before it has been too.
    await producer.send({ topic: ws, messages: [{ key: fixedByPoller.id, value: 'sentinel' }] });
    await producer.send({ topic: jobs, messages: [{ key: ruleBreaker.workspace_id, value: 'sentinel' }] });
    const records = await consumeUntil(
      kafka,
      [ws, jobs],
      (r) => r.filter((x) => x.message.value?.toString() === 'sentinel').length === 2,
      { registry },
    );
    const redriven = records.filter((r) => r.message.value?.toString() !== 'sentinel');
    expect(redriven).toHaveLength(3);
    const byName = new Map(
      redriven.map((r) => [(r.value as { name?: string; id: string }).name ?? r.topic, r]),
    );
    expect(byName.get('from the poller DLQ')).toMatchObject({
      topic: ws,
      key: fixedByPoller.id,
      value: fixedByPoller,
      headers: { [HEADERS.source]: 'workspaces', [HEADERS.redrivenFrom]: `${dlq}/0/0` },
    });
    for (const h of [
      DEAD_LETTER_HEADERS.reason,
      DEAD_LETTER_HEADERS.stage,
      DEAD_LETTER_HEADERS.connectorName,
    ]) {
      expect(byName.get('from the poller DLQ')!.headers).not.toHaveProperty(h);
    }
    expect(byName.get('refused by an old bronze')!.message.value).toEqual(avro); // the original bytes
    expect(byName.get(jobs)).toMatchObject({ key: ruleBreaker.workspace_id, value: ruleBreaker });

    // list and show read the same topic: four dead letters, with their reasons and sources.
    const list = await runCli(['dlq', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).find((s: { topic: string }) => s.topic === dlq)).toMatchObject({
      records: 4,
    });
    const show = await runCli(['dlq', 'show', dlq, '--limit', '2', '--json'], env);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown.map((r: { offset: string }) => r.offset)).toEqual(['2', '3']);
    expect(shown[0]).toMatchObject({
      source: `${ws}/1/42`,
      group: 'tributary.bronze.workspaces',
      stage: 'VALUE_CONVERTER',
      value: { format: 'avro' },
    });
    expect(shown[1]).toMatchObject({
      reason: 'status moved backward',
      source: `${jobs}/0/3`,
      stage: null,
      value: { format: 'json' },
    });
    await admin.deleteGroups([`tributary.dlq-redrive.${dlq}`]).catch(() => {});
  });
});
