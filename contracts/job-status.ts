import { type JobStatus, JobStatusValues } from '../schemas/generated/types.ts';

/**
 * The statuses of an enrichment job, from the Avro enum `dev.tributary.source.JobStatus`
 * (schemas/enrichment-job.avsc, generated into schemas/generated/types.ts): the gateway's API
 * schemas and socket, the dashboard and the test fixtures take the list and its order from here,
 * so a status added to the schema reaches all of them. The order is the enum's symbol order, which
 * is also the lifecycle's: queued → processing → one of the three terminal statuses.
 * No import but the generated types: the dashboard's bundle imports this file.
 */
export type { JobStatus };

export const JOB_STATUSES: typeof JobStatusValues = JobStatusValues;

/**
 * How far along each status is: a status only moves forward, and the terminal ones share the last
 * rank. A record over the enum, so a status added to the schema does not compile until it is ranked.
 */
export const JOB_STATUS_RANK: Readonly<Record<JobStatus, number>> = {
  queued: 0,
  processing: 1,
  completed: 2,
  failed: 2,
  canceled: 2,
};

const LAST_RANK = Math.max(...Object.values(JOB_STATUS_RANK));

/** The statuses a job never leaves (it has a finished_at), in the enum's order. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter(
  (s) => JOB_STATUS_RANK[s] === LAST_RANK,
);

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

export function isTerminalJobStatus(status: string): boolean {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}
