import { Type } from '@fastify/type-provider-typebox';
import { JobKindValues, JobStatusValues, PlanValues } from '../schemas/generated/types.ts';
import { SEGMENTS } from './generator.ts';

/**
 * TypeBox schemas of the HTTP API: they validate requests, type the handlers and document the API
 * at /docs. (`typebox`, the one TypeBox of the project, re-exported by the Fastify type provider.)
 */
const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-22T10:00:00.123Z'] });

export const ErrorBody = Type.Object(
  { error: Type.String({ examples: ['Bad Request'] }), message: Type.String() },
  { description: 'Every error answer' },
);

export const WorkspaceBody = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    plan: Type.Union(PlanValues.map((p) => Type.Literal(p))),
    segment: Type.Union(SEGMENTS.map((s) => Type.Literal(s))),
    country: Type.String({ description: 'ISO 3166-1 alpha-2', examples: ['NZ'] }),
    owner_email: Type.String({ format: 'email' }),
    created_at: Timestamp('when the workspace was created'),
    updated_at: Timestamp('when this version was written; with id, identifies the version'),
  },
  { $id: 'Workspace', description: 'One version of a workspace (schemas/workspace.avsc)' },
);

export const JobBody = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    workspace_id: Type.String({ format: 'uuid', description: 'may arrive before its workspace' }),
    kind: Type.Union(JobKindValues.map((k) => Type.Literal(k))),
    status: Type.Union(
      JobStatusValues.map((s) => Type.Literal(s)),
      { description: 'only moves forward' },
    ),
    requested_count: Type.Integer({ minimum: 0 }),
    enriched_count: Type.Integer({ minimum: 0, description: 'only grows' }),
    failed_count: Type.Integer({ minimum: 0, description: 'only grows' }),
    error_code: Type.Union([Type.String(), Type.Null()], { description: 'set when failed' }),
    created_at: Timestamp('when the job was created'),
    updated_at: Timestamp('when this version was written; with id, identifies the version'),
    finished_at: Type.Union([Timestamp('when the job became terminal'), Type.Null()]),
  },
  { $id: 'EnrichmentJob', description: 'One version of an enrichment job (schemas/enrichment-job.avsc)' },
);

export const ListQuery = Type.Object({
  updated_since: Type.Optional(
    Timestamp('only versions with updated_at strictly after this instant (ISO-8601 with a zone)'),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'a next_cursor' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'versions per page' }),
});

/** the $id of WorkspaceBody or JobBody, registered with app.addSchema */
export type ItemSchemaId = 'Workspace' | 'EnrichmentJob';

export const listResponse = (itemId: ItemSchemaId) =>
  Type.Object({
    data: Type.Array(Type.Ref(itemId), { description: 'versions in (updated_at, id) order' }),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'null when this page reached the end of the feed as it was when it was served',
    }),
  });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const FaultsBody = Type.Object(
  {
    rate429: Type.Number({ minimum: 0, maximum: 1 }),
    rate5xx: Type.Number({ minimum: 0, maximum: 1 }),
    rateSlow: Type.Number({ minimum: 0, maximum: 1 }),
    slowMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
    rateTruncated: Type.Number({ minimum: 0, maximum: 1 }),
    rateMalformedRecord: Type.Number({ minimum: 0, maximum: 1 }),
    retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
  },
  { additionalProperties: false },
);

export const FaultsPatch = Type.Partial(FaultsBody, { additionalProperties: false });

export const Stats = Type.Object({
  workspaces: Type.Integer(),
  jobs: Type.Integer(),
  workspaceVersions: Type.Integer(),
  jobVersions: Type.Integer(),
  malformedVersions: Type.Integer(),
  paused: Type.Boolean(),
  requests: Type.Integer({ description: 'requests to /v1 since start' }),
  throttled: Type.Integer({ description: 'requests to /v1 refused by the token bucket' }),
});

export const VersionList = Type.Array(
  Type.Object({ id: Type.String(), updated_at: Type.String(), malformed: Type.Boolean() }),
);

export const PausedBody = Type.Object({ paused: Type.Boolean() });

export const TickBody = Type.Object({
  at: Type.String({ format: 'date-time' }),
  versions: Type.Integer({ description: 'versions written by this tick' }),
  skipped: Type.Boolean({ description: 'true when the clock had not moved since the last tick' }),
});
