import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../common/errors.ts';
import type { Workspace } from '../../schemas/generated/types.ts';
import { avroType } from '../../schemas/index.ts';
import { createAvroDecoder } from './avro-decoder.ts';

const workspace: Workspace = {
  id: '0b5f8a0e-6c1d-4b8e-9d7a-1f2e3d4c5b6a',
  name: 'Acme',
  plan: 'pro',
  segment: 'smb',
  country: 'FR',
  owner_email: 'o@example.com',
  created_at: 1,
  updated_at: 2,
};

function wire(id: number, type: avro.Type, value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

/** A registry fake: schema ids 1 (workspace) and 2 (enrichment job); 9 answers 503; others 404. */
function fakeRegistry() {
  const calls: number[] = [];
  const registry = {
    async getSchema(id: number) {
      calls.push(id);
      if (id === 1) return avroType('workspace');
      if (id === 2) return avroType('enrichment-job');
      throw Object.assign(new Error(`status ${id === 9 ? 503 : 404}`), { status: id === 9 ? 503 : 404 });
    },
  } as unknown as SchemaRegistry;
  return { registry, calls };
}

describe('createAvroDecoder', () => {
  it('decodes wire-format values, asking the registry once per schema id', async () => {
    const { registry, calls } = fakeRegistry();
    const decoder = createAvroDecoder<Workspace>({ registry, readerType: avroType('workspace') });
    const values = [wire(1, avroType('workspace'), workspace), wire(1, avroType('workspace'), workspace)];
    await decoder.prepare(values);
    await decoder.prepare(values);
    expect(calls).toEqual([1]);
    expect(decoder.decode(values[0]!)).toEqual({ ok: true, value: { ...workspace }, schemaId: 1 });
  });

  it('says why a value cannot be decoded', async () => {
    const { registry } = fakeRegistry();
    const decoder = createAvroDecoder<Workspace>({ registry, readerType: avroType('workspace') });
    const jobValue = wire(2, avroType('enrichment-job'), {
      id: workspace.id,
      workspace_id: workspace.id,
      kind: 'company',
      status: 'queued',
      requested_count: 1,
      enriched_count: 0,
      failed_count: 0,
      error_code: null,
      created_at: 1,
      updated_at: 2,
      finished_at: null,
    });
    const cases: Array<[Buffer | null, RegExp]> = [
      [null, /tombstone/],
      [Buffer.from('plain text'), /not Confluent Avro wire format/],
      [Buffer.from([0, 0, 0]), /not Confluent Avro wire format/],
      [wire(7, avroType('workspace'), workspace), /schema id 7 is unknown/],
      [jobValue, /schema id 2 .* cannot be read as dev\.tributary\.source\.Workspace/],
      [wire(1, avroType('workspace'), workspace).subarray(0, 9), /Avro payload is invalid/],
    ];
    await decoder.prepare(cases.map(([v]) => v));
    for (const [value, reason] of cases) {
      const decoded = decoder.decode(value);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    }
  });

  it('keeps an unknown id answered while another batch prepares (partitions consumed concurrently)', async () => {
    const { registry, calls } = fakeRegistry();
    const decoder = createAvroDecoder<Workspace>({ registry, readerType: avroType('workspace') });
    const unknown = wire(7, avroType('workspace'), workspace);
    await decoder.prepare([unknown]); // batch A
    await decoder.prepare([wire(1, avroType('workspace'), workspace)]); // batch B, before A decodes
    expect(decoder.decode(unknown)).toEqual({
      ok: false,
      reason: 'schema id 7 is unknown to the schema registry',
    });
    await decoder.prepare([unknown]);
    expect(calls).toEqual([7, 1]); // asked once within the retention window
  });

  it('fails the batch with a retriable error when the registry is unavailable', async () => {
    const { registry } = fakeRegistry();
    const decoder = createAvroDecoder<Workspace>({ registry, readerType: avroType('workspace') });
    const err = await decoder.prepare([wire(9, avroType('workspace'), workspace)]).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.retriable).toBe(true);
  });
});
