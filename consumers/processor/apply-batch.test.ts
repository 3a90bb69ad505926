import type { Batch, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import { HEADERS } from '../../contracts/headers.ts';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import { job, workspace } from '../../tests/support/fixtures.ts';
import type { Decoded } from '../shared/avro-decoder.ts';
import { applyBatch } from './apply-batch.ts';
import { JoinState } from './join-state.ts';

/** Stand-ins for Confluent Avro bytes: the letters must carry them as they came. */
const avroBytes = (n: number) => Buffer.from([0, 0, 0, 0, 9, n]);

const message = (offset: number, key: string): KafkaMessage => ({
  key: Buffer.from(key),
  value: avroBytes(offset),
  headers: { [HEADERS.requestId]: `req-${offset}` },
  timestamp: '0',
  attributes: 0,
  offset: String(offset),
});
const batchOf = (topic: string, messages: KafkaMessage[]) =>
  ({ topic, partition: 2, messages }) as unknown as Batch;
const ok = <T>(value: T): Decoded<T> => ({ ok: true, value, schemaId: 9 });

describe('applyBatch', () => {
  it('joins jobs with their workspace, writes the changelog, and dead-letters the input unchanged', () => {
    const state = new JoinState();
    const ws = workspace();
    const wsOut = applyBatch({
      batch: batchOf('raw.workspaces', [message(0, ws.id), message(1, ws.id)]),
      input: {
        kind: 'workspaces',
        decoded: [ok<Workspace>(ws), { ok: false, reason: 'schema id 7 is unknown to the schema registry' }],
      },
      state,
      processedAt: 1,
      writer: 'tributary.processor',
    });
    expect(wsOut.changelog.map((c) => c.key)).toEqual([`w:${ws.id}`]);
    expect(wsOut.dlq).toHaveLength(1);
    expect(readDeadLetter(wsOut.dlq[0]!.headers)).toMatchObject({
      reason: 'undecodable: schema id 7 is unknown to the schema registry',
      stage: 'VALUE_CONVERTER',
      from: { topic: 'raw.workspaces', partition: 2, offset: '1' },
    });

    const good = job({ workspace_id: ws.id, status: 'processing', updated_at: 10 });
    const backward = { ...good, status: 'queued' as const, updated_at: 20 };
    const jobsOut = applyBatch({
      batch: batchOf('raw.enrichment-jobs', [message(5, ws.id), message(6, ws.id)]),
      input: { kind: 'jobs', decoded: [ok<EnrichmentJob>(good), ok<EnrichmentJob>(backward)] },
      state,
      processedAt: 1,
      writer: 'tributary.processor',
    });
    expect(jobsOut.gold.map((g) => [g.job_id, g.workspace_resolved])).toEqual([[good.id, true]]);
    expect(jobsOut.changelog.map((c) => c.key)).toEqual([`j:${good.id}`]);
    const [letter] = jobsOut.dlq;
    // the rule breaker's own bytes, key and headers, not a re-serialisation of the decoded job
    expect(letter!.key).toEqual(Buffer.from(ws.id));
    expect(letter!.value).toEqual(avroBytes(6));
    expect(letter!.headers).toMatchObject({ [HEADERS.requestId]: 'req-6' });
    expect(readDeadLetter(letter!.headers)).toEqual({
      reason: 'status moved backward from processing to queued',
      from: { topic: 'raw.enrichment-jobs', partition: 2, offset: '6' },
      writer: 'tributary.processor',
      stage: 'TASK_PUT',
      errorClass: null,
      truncatedFrom: null,
    });
    // the state kept the last good version
    expect(state.applyJob(good)).toEqual({ kind: 'stale' });
  });
});
