import { describe, expect, it } from 'vitest';
import { job } from '../tests/support/fixtures.ts';
import { decideRedrive, sourceTopic } from './redrive-record.ts';

const ctx = {
  dlqTopic: 'dlq.raw.workspaces',
  rawTopics: { workspaces: 'raw.workspaces', 'enrichment-jobs': 'raw.enrichment-jobs' },
};
const apiWorkspace = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  name: 'Acme',
  plan: 'pro',
  segment: 'smb',
  country: 'DE',
  owner_email: 'o@example.com',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-02T00:00:00.000Z',
  extra_field_the_api_added: true,
};
const msg = (value: Buffer | null, headers: Record<string, string>, key: string | null = 'k') => ({
  key: key === null ? null : Buffer.from(key),
  value,
  headers,
  offset: '7',
});

describe('sourceTopic', () => {
  it('reads the topic of a <topic>/<partition>/<offset> header', () => {
    expect(sourceTopic('raw.workspaces/2/1234')).toBe('raw.workspaces');
    expect(sourceTopic('raw.workspaces/x/1')).toBeNull();
    expect(sourceTopic('nonsense')).toBeNull();
    expect(sourceTopic(undefined)).toBeNull();
  });
});

describe('decideRedrive', () => {
  it('maps a poller dead letter (API JSON) to an Avro record for its raw topic, keeping the lineage headers', () => {
    const d = decideRedrive(
      ctx,
      0,
      msg(Buffer.from(JSON.stringify(apiWorkspace)), {
        'tributary-source': 'workspaces',
        'tributary-request-id': 'req-1',
        'tributary-dlq-reason': 'plan: "platinum" is not a valid enum',
      }),
    );
    expect(d).toEqual({
      action: 'encode',
      topic: 'raw.workspaces',
      key: apiWorkspace.id,
      schema: 'workspace',
      record: {
        id: apiWorkspace.id,
        name: 'Acme',
        plan: 'pro',
        segment: 'smb',
        country: 'DE',
        owner_email: 'o@example.com',
        created_at: Date.UTC(2026, 0, 1),
        updated_at: Date.UTC(2026, 0, 2),
      },
      headers: {
        'tributary-source': 'workspaces',
        'tributary-request-id': 'req-1',
        'tributary-redriven-from': 'dlq.raw.workspaces/0/7',
      },
    });
  });

  it('re-encodes the processor’s JSON rule breakers for the source topic, keyed by workspace', () => {
    const j = job();
    const d = decideRedrive(
      ctx,
      0,
      msg(Buffer.from(JSON.stringify(j)), {
        'tributary-dlq-source': 'raw.enrichment-jobs/1/40',
        'tributary-dlq-reason': 'status moved backward',
      }),
    );
    expect(d).toMatchObject({
      action: 'encode',
      topic: 'raw.enrichment-jobs',
      key: j.workspace_id,
      record: j,
    });
  });

  it('leaves records that are still invalid, or whose origin is unknown', () => {
    const bad = { ...apiWorkspace, plan: 'platinum' };
    expect(
      decideRedrive(ctx, 0, msg(Buffer.from(JSON.stringify(bad)), { 'tributary-source': 'workspaces' })),
    ).toEqual({
      action: 'leave',
      topic: 'raw.workspaces',
      reasons: ['plan: "platinum" is not a valid enum value (free, starter, pro, enterprise)'],
    });
    expect(decideRedrive(ctx, 0, msg(Buffer.from('{}'), {}))).toMatchObject({ action: 'leave', topic: null });
    expect(decideRedrive(ctx, 0, msg(null, { 'tributary-dlq-source': 'raw.workspaces/0/1' }))).toMatchObject({
      action: 'leave',
      reasons: ['the value is null (a tombstone)'],
    });
  });

  it('re-injects original bytes unchanged: Avro, and anything bound for a topic it has no schema for', () => {
    const avro = Buffer.from([0, 0, 0, 0, 5, 2, 4]);
    expect(
      decideRedrive(
        ctx,
        0,
        msg(avro, { 'tributary-dlq-source': 'raw.workspaces/0/1', 'tributary-dlq-group': 'g' }),
      ),
    ).toEqual({
      action: 'reinject',
      topic: 'raw.workspaces',
      key: Buffer.from('k'),
      value: avro,
      headers: { 'tributary-redriven-from': 'dlq.raw.workspaces/0/7' },
    });
    const garbage = Buffer.from('not avro');
    expect(
      decideRedrive(ctx, 0, msg(garbage, { 'tributary-dlq-source': 'raw.workspaces/0/1' })),
    ).toMatchObject({
      action: 'reinject',
      value: garbage,
    });
    expect(
      decideRedrive(
        ctx,
        0,
        msg(Buffer.from('{"a":1}'), { 'tributary-dlq-source': 'gold.enrichment-jobs/0/1' }),
      ),
    ).toMatchObject({ action: 'reinject', topic: 'gold.enrichment-jobs' });
  });
});
