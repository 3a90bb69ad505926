import { describe, expect, it } from 'vitest';
import type { EnrichmentJob, Workspace } from '../schemas/generated/types.ts';
import { isoToMillis, mapRecord, versionOf } from './mapper.ts';

const workspace = {
  id: '7f1c0a4e-2d5b-4c8e-9a51-0b3c2d1e4f56',
  name: 'Acme',
  plan: 'pro',
  segment: 'smb',
  country: 'FR',
  owner_email: 'owner@acme.test',
  created_at: '2024-05-01T10:00:00.000Z',
  updated_at: '2024-05-02T11:30:15.123Z',
};
const job = {
  id: '0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d',
  workspace_id: workspace.id,
  kind: 'company',
  status: 'completed',
  requested_count: 10,
  enriched_count: 9,
  failed_count: 1,
  error_code: null,
  created_at: '2024-05-02T11:00:00.000Z',
  updated_at: '2024-05-02T11:05:00.000Z',
  finished_at: '2024-05-02T11:05:00.000Z',
};

describe('mapRecord', () => {
  it('converts ISO timestamps to epoch ms and drops fields the schema does not know', () => {
    const r = mapRecord<Workspace>('workspace', { ...workspace, extra: 'ignored' });
    expect(r).toEqual({
      ok: true,
      record: {
        ...workspace,
        created_at: Date.parse(workspace.created_at),
        updated_at: Date.parse(workspace.updated_at),
      },
    });
    const j = mapRecord<EnrichmentJob>('enrichment-job', { ...job, finished_at: null });
    expect(j).toMatchObject({ ok: true, record: { finished_at: null, error_code: null } });
  });

  it('reports a wrong type, a missing field and an unknown enum value, field by field', () => {
    const { name: _name, ...missingName } = workspace;
    const r = mapRecord('workspace', { ...missingName, plan: 'platinum', country: 42 });
    expect(r.ok).toBe(false);
    const reasons = r.ok ? [] : r.reasons;
    expect(reasons).toHaveLength(3);
    expect(reasons.join('\n')).toMatch(/^name: undefined is not a valid string$/m);
    expect(reasons.join('\n')).toMatch(
      /^plan: "platinum" is not a valid enum value \(free, starter, pro, enterprise\)$/m,
    );
    expect(reasons.join('\n')).toMatch(/^country: 42 is not a valid string$/m);
  });

  it('treats a timestamp that is not ISO 8601 as a violation, reported once', () => {
    const r = mapRecord('enrichment-job', { ...job, finished_at: 'yesterday', created_at: 1714647600000 });
    expect(r).toEqual({
      ok: false,
      reasons: [
        'created_at: 1714647600000 is not an ISO-8601 timestamp',
        'finished_at: "yesterday" is not an ISO-8601 timestamp',
      ],
    });
    expect(mapRecord('enrichment-job', { ...job, requested_count: 1.5 }).ok).toBe(false);
  });

  it('rejects a feed entry that is not an object', () => {
    expect(mapRecord('workspace', 'oops')).toEqual({
      ok: false,
      reasons: ['(record): "oops" is not a JSON object'],
    });
  });
});

describe('versionOf and isoToMillis', () => {
  it('reads (id, updated_at) even from a record that breaks the schema elsewhere', () => {
    expect(versionOf({ ...workspace, plan: 'nope' })).toEqual({
      id: workspace.id,
      updatedAt: Date.parse(workspace.updated_at),
    });
    expect(versionOf({ id: 'x' })).toBeUndefined();
    expect(versionOf({ id: 3, updated_at: workspace.updated_at })).toBeUndefined();
  });

  it('accepts ISO 8601 with a zone only', () => {
    expect(isoToMillis('2024-05-02T11:30:15.123Z')).toBe(Date.UTC(2024, 4, 2, 11, 30, 15, 123));
    expect(isoToMillis('2024-05-02T13:30:15+02:00')).toBe(Date.UTC(2024, 4, 2, 11, 30, 15));
    for (const bad of ['2024', '2024-05-02', 'May 2, 2024', '2024-13-45T00:00:00Z', 17, null]) {
      expect(isoToMillis(bad)).toBeUndefined();
    }
  });
});
