import type { Generator, JobState, WorkspaceState } from './generator.ts';

/** The two entities of the source, named like their Avro schemas (schemas/*.avsc). */
export type EntityName = 'workspace' | 'enrichment-job';

/** ISO-8601 UTC with milliseconds, e.g. 2026-11-22T10:00:00.123Z: the API's timestamp format. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The JSON of a workspace version as the API serves it (field order of workspace.avsc). */
export function workspaceToWire(w: WorkspaceState): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    plan: w.plan,
    segment: w.segment,
    country: w.country,
    owner_email: w.owner_email,
    created_at: iso(w.created_at),
    updated_at: iso(w.updated_at),
  };
}

/** The JSON of a job version as the API serves it (field order of enrichment-job.avsc). */
export function jobToWire(j: JobState): Record<string, unknown> {
  return {
    id: j.id,
    workspace_id: j.workspace_id,
    kind: j.kind,
    status: j.status,
    requested_count: j.requested_count,
    enriched_count: j.enriched_count,
    failed_count: j.failed_count,
    error_code: j.error_code,
    created_at: iso(j.created_at),
    updated_at: iso(j.updated_at),
    finished_at: j.finished_at === null ? null : iso(j.finished_at),
  };
}

/**
 * The state behind a valid version: its JSON with the timestamps back in epoch ms (the inverse of
 * workspaceToWire/jobToWire). A stored world keeps only the versions' JSON for valid records.
 */
export function stateFromWire<T extends WorkspaceState | JobState>(body: Record<string, unknown>): T {
  const ms = (v: unknown) => (v === null || v === undefined ? null : Date.parse(String(v)));
  const state: Record<string, unknown> = {
    ...body,
    created_at: ms(body.created_at),
    updated_at: ms(body.updated_at),
  };
  if ('finished_at' in body) state.finished_at = ms(body.finished_at);
  return state as T;
}

type Defect =
  | { kind: 'wrong_type'; field: string; value: (body: Record<string, unknown>) => unknown }
  | { kind: 'missing'; field: string }
  | { kind: 'unknown_enum'; field: string; values: readonly string[] };

/**
 * The defects a malformed version can have: exactly one per version, never on `id` or `updated_at`
 * (so the version stays addressable in the feed). Each makes the record fail its Avro schema.
 */
const DEFECTS: Record<EntityName, readonly Defect[]> = {
  workspace: [
    { kind: 'wrong_type', field: 'name', value: (b) => String(b.name).length },
    { kind: 'wrong_type', field: 'country', value: () => 826 }, // the ISO numeric code, not alpha-2
    { kind: 'missing', field: 'plan' },
    { kind: 'missing', field: 'owner_email' },
    { kind: 'unknown_enum', field: 'plan', values: ['platinum', 'trial', 'legacy'] },
  ],
  'enrichment-job': [
    { kind: 'wrong_type', field: 'requested_count', value: (b) => String(b.requested_count) },
    { kind: 'wrong_type', field: 'enriched_count', value: (b) => String(b.enriched_count) },
    { kind: 'missing', field: 'workspace_id' },
    { kind: 'missing', field: 'status' },
    { kind: 'unknown_enum', field: 'status', values: ['paused', 'archived'] },
    { kind: 'unknown_enum', field: 'kind', values: ['robot', 'household'] },
  ],
};

/** A copy of `body` with one defect chosen by the (seeded) generator. */
export function malform(entity: EntityName, body: Record<string, unknown>, gen: Generator) {
  const defect = gen.pick(DEFECTS[entity]);
  const copy = { ...body };
  if (defect.kind === 'missing') delete copy[defect.field];
  else if (defect.kind === 'wrong_type') copy[defect.field] = defect.value(body);
  else copy[defect.field] = gen.pick(defect.values);
  return copy;
}
