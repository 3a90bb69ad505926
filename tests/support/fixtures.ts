import { randomUUID } from 'node:crypto';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';

/** Small builders for records in tests: valid by default, override what the test is about. */
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

export function workspace(over: Partial<Workspace> = {}): Workspace {
  return {
    id: randomUUID(),
    name: 'Acme',
    plan: 'pro',
    segment: 'smb',
    country: 'DE',
    owner_email: 'owner@example.com',
    created_at: T0,
    updated_at: T0,
    ...over,
  };
}

export function job(over: Partial<EnrichmentJob> = {}): EnrichmentJob {
  return {
    id: randomUUID(),
    workspace_id: randomUUID(),
    kind: 'company',
    status: 'queued',
    requested_count: 100,
    enriched_count: 0,
    failed_count: 0,
    error_code: null,
    created_at: T0,
    updated_at: T0,
    finished_at: null,
    ...over,
  };
}
