import { type Static, type TInteger, Type } from 'typebox';
import { JOB_STATUSES, type JobStatus } from '../contracts/job-status.ts';

/**
 * The analytics API's shapes, declared once as TypeBox schemas: Fastify validates requests and
 * serialises responses with them, @fastify/swagger documents them, and their static types are the
 * payloads of the Socket.IO events (gateway/events.ts), which the dashboard imports. No runtime
 * dependency but TypeBox and the job statuses (contracts/job-status.ts, from the Avro enum), so the
 * dashboard's bundle can import the types.
 */

export const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
export const DIMENSIONS = ['plan', 'segment', 'country'] as const;

const Rate = Type.Union([Type.Number(), Type.Null()], {
  description: 'a share between 0 and 1; null when nothing to divide by',
});
const Ms = Type.Union([Type.Number(), Type.Null()], { description: 'milliseconds; null when no jobs' });
const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const StatusEnum = Type.Enum(JOB_STATUSES);
export const PlanEnum = Type.Enum(PLANS);
export const DimensionEnum = Type.Enum(DIMENSIONS);

/** one count per job status, in the enum's order, and their total */
export const StatusCounts = Type.Object({
  ...(Object.fromEntries(JOB_STATUSES.map((s) => [s, Type.Integer()])) as Record<JobStatus, TInteger>),
  total: Type.Integer(),
});

export const SuccessRate = Type.Object({
  completed: Type.Integer(),
  failed: Type.Integer(),
  canceled: Type.Integer(),
  /** completed / (completed + failed); canceled jobs are the customer's choice, not an outcome */
  jobSuccessRate: Rate,
  /** enriched records / requested records over completed and failed jobs */
  recordSuccessRate: Rate,
});

export const Durations = Type.Object({
  /** finished jobs with a duration */
  count: Type.Integer(),
  p50Ms: Ms,
  p95Ms: Ms,
});

export const Throughput = Type.Object({
  windowMinutes: Type.Integer(),
  finished: Type.Integer(),
  /** finished / windowMinutes */
  perMinute: Type.Number(),
  series: Type.Array(Type.Object({ minute: Timestamp, finished: Type.Integer() })),
});

export const BreakdownRow = Type.Object({
  /** the plan, segment or country; null for jobs whose workspace is not resolved yet */
  key: NullableString,
  jobs: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  canceled: Type.Integer(),
  jobSuccessRate: Rate,
  recordSuccessRate: Rate,
});
export const Breakdown = Type.Object({ dimension: DimensionEnum, rows: Type.Array(BreakdownRow) });

export const WorkspaceSummary = Type.Object({
  workspaceId: Type.String({ format: 'uuid' }),
  name: NullableString,
  plan: NullableString,
  segment: NullableString,
  country: NullableString,
  jobs: Type.Integer(),
  statusCounts: StatusCounts,
  jobSuccessRate: Rate,
  recordSuccessRate: Rate,
  p50Ms: Ms,
  p95Ms: Ms,
  lastJobAt: Timestamp,
});

export const JobRow = Type.Object({
  jobId: Type.String({ format: 'uuid' }),
  workspaceId: Type.String({ format: 'uuid' }),
  workspaceName: NullableString,
  plan: NullableString,
  segment: NullableString,
  country: NullableString,
  kind: Type.String(),
  status: Type.String(),
  requestedCount: Type.Integer(),
  enrichedCount: Type.Integer(),
  failedCount: Type.Integer(),
  errorCode: NullableString,
  createdAt: Timestamp,
  finishedAt: Type.Union([Timestamp, Type.Null()]),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
});

export const JobsPage = Type.Object({
  jobs: Type.Array(JobRow),
  /** pass as `cursor` to get the next page; null on the last page */
  nextCursor: NullableString,
});

export const JobsQuery = Type.Object({
  status: Type.Optional(StatusEnum),
  plan: Type.Optional(PlanEnum),
  workspace: Type.Optional(Type.String({ format: 'uuid' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

export const Kpis = Type.Object({
  refreshedAt: Timestamp,
  statusCounts: StatusCounts,
  successRate: SuccessRate,
  durations: Durations,
  throughput: Throughput,
  byPlan: Type.Array(BreakdownRow),
  bySegment: Type.Array(BreakdownRow),
});

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const HopName = Type.Enum(['source', 'raw', 'bronze', 'gold', 'postgres', 'mongo']);
const Offset = Type.String({ description: 'a Kafka offset (a decimal string: offsets exceed 2^53)' });

/** The lineage of a job (lineage/types.ts is the same shape; gateway/analytics/lineage.ts checks it). */
export const LineageGold = Type.Object({
  topic: Type.String(),
  partition: Type.Integer(),
  offset: Offset,
  at: NullableTimestamp,
  processedAt: NullableTimestamp,
  jobUpdatedAt: Type.String(),
  workspaceUpdatedAt: NullableTimestamp,
  status: Type.String(),
  trigger: Type.Enum(['job', 'workspace']),
  postgres: Type.Union([Type.Object({ table: Type.String(), writtenAt: NullableTimestamp }), Type.Null()]),
  mongo: Type.Union([Type.Object({ collection: Type.String(), writtenAt: NullableTimestamp }), Type.Null()]),
});
export const LineageVersion = Type.Object({
  entity: Type.Enum(['job', 'workspace']),
  id: Type.String(),
  updatedAt: Timestamp,
  state: Type.String(),
  source: Type.Object({ api: NullableString, requestId: NullableString, fetchedAt: NullableTimestamp }),
  raw: Type.Object({
    topic: Type.String(),
    partition: Type.Integer(),
    offset: Offset,
    at: NullableTimestamp,
    schemaId: Type.Integer(),
  }),
  bronze: Type.Object({ table: Type.String(), ingestedAt: Timestamp }),
  gold: Type.Array(LineageGold),
  hops: Type.Array(
    Type.Object({
      hop: HopName,
      where: Type.String(),
      at: NullableTimestamp,
      after: Type.Union([HopName, Type.Null()]),
      afterMs: Type.Union([Type.Number(), Type.Null()], { description: 'ms since the hop `after`' }),
    }),
  ),
});
const StoredGold = Type.Union([
  Type.Object({
    partition: Type.Integer(),
    offset: Offset,
    writtenAt: NullableTimestamp,
    jobUpdatedAt: Timestamp,
    workspaceUpdatedAt: NullableTimestamp,
    status: Type.String(),
  }),
  Type.Null(),
]);
export const JobLineage = Type.Object({
  jobId: Type.String({ format: 'uuid' }),
  workspaceId: NullableString,
  tracedAt: Timestamp,
  jobVersions: Type.Array(LineageVersion),
  workspaceVersions: Type.Array(LineageVersion),
  otherGold: Type.Array(LineageGold),
  stores: Type.Object({ postgres: StoredGold, mongo: StoredGold }),
  deadLetters: Type.Array(
    Type.Object({
      topic: Type.String(),
      partition: Type.Integer(),
      offset: Offset,
      at: NullableTimestamp,
      entity: Type.Enum(['job', 'workspace']),
      reason: NullableString,
      source: NullableString,
      requestId: NullableString,
      fetchedAt: NullableString,
    }),
  ),
  scans: Type.Array(
    Type.Object({
      topic: Type.String(),
      partition: Type.Integer(),
      from: Offset,
      to: Offset,
      scanned: Type.Integer(),
      complete: Type.Boolean(),
    }),
  ),
  problems: Type.Array(Type.String()),
});

export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
});

export type StatusCounts = Static<typeof StatusCounts>;
export type SuccessRate = Static<typeof SuccessRate>;
export type Durations = Static<typeof Durations>;
export type Throughput = Static<typeof Throughput>;
export type BreakdownRow = Static<typeof BreakdownRow>;
export type Breakdown = Static<typeof Breakdown>;
export type WorkspaceSummary = Static<typeof WorkspaceSummary>;
export type JobRow = Static<typeof JobRow>;
export type JobsPage = Static<typeof JobsPage>;
export type JobsQuery = Static<typeof JobsQuery>;
export type Kpis = Static<typeof Kpis>;
export type JobLineage = Static<typeof JobLineage>;
export type Dimension = (typeof DIMENSIONS)[number];
export type JobStatusName = JobStatus;
