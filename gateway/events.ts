import type { AlertItem, AlertsSnapshot } from './alerts/schemas.ts';
import type { JobRow, JobStatusName, JobsPage, Kpis } from './schemas.ts';
import type { LatestWalk } from './walks/reconcile.ts';

/**
 * The Socket.IO contract between the gateway and the dashboard, typed once: the server is a
 * `Server<ClientToServerEvents, ServerToClientEvents>`, the dashboard a
 * `Socket<ServerToClientEvents, ClientToServerEvents>`. Type-only: the dashboard imports it with a
 * relative path and nothing of the server ends up in its bundle.
 *
 * The server pushes one aggregated `live` update per tick (about once a second), never an event per
 * record; a new connection first receives the rolling `history`.
 */
export interface ServerToClientEvents {
  history: (points: HistoryPoint[]) => void;
  live: (update: LiveUpdate) => void;
  /** the alerts (as GET /api/alerts): on connection, then whenever one appears, fires, resolves or its summary changes */
  alerts: (snapshot: AlertsSnapshot) => void;
}

export interface ClientToServerEvents {
  /** one page of the most recent gold jobs, filtered; the answer comes in the acknowledgement */
  'jobs:recent': (query: RecentJobsQuery, ack: (reply: RecentJobsReply) => void) => void;
}

export type { AlertItem, AlertsSnapshot, JobRow, JobStatusName, Kpis, LatestWalk };

export const STAGES = ['polled', 'published', 'bronze-written', 'joined', 'gold-written'] as const;
export type StageName = (typeof STAGES)[number];
/** stale: no metrics of the stage's role lately, so nothing is known (grey on the dashboard) */
export type StageStatus = 'green' | 'amber' | 'red' | 'stale';

export interface StageState {
  stage: StageName;
  /** records per second over the last few seconds; null until two snapshots are known */
  ratePerSec: number | null;
  status: StageStatus;
  /** why it is not green (empty when green), e.g. the stalled role's own reason */
  reason: string;
}

export interface GroupLag {
  group: string;
  topics: string[];
  /** committed offset to end offset, summed over partitions */
  messages: number;
  /** age of the oldest unconsumed message (0 when caught up) */
  seconds: number;
  /** true when the oldest unconsumed message predates the gateway's offset history: seconds is a minimum */
  secondsAtLeast: boolean;
}

export interface PollerHealth {
  api: string;
  /** the poller's own verdict; null when it does not report one */
  healthy: boolean | null;
  /** how far behind the source it is */
  lagSeconds: number | null;
  /** epoch ms of the last successful poll */
  lastSuccessAt: number | null;
  requestsPerSec: number | null;
  http429Total: number;
  /** HTTP 429 answers in the last minute */
  http429LastMinute: number;
  retriesTotal: number;
  retriesLastMinute: number;
  dlqTotal: number;
}

export interface DeadLetterCount {
  topic: string;
  /** records on the topic (end offset minus start offset, over partitions) */
  messages: number;
  /** growth over the history window */
  recentIncrease: number;
}

/** A `tributary replay` in progress, or finished within the last minute. */
export interface ReplayState {
  group: string;
  /** messages still to reprocess; 0 when done */
  lagMessages: number;
  /** messages the replay reprocesses */
  totalMessages: number;
  /** 1 − lag / total, 0..1 (1 when done) */
  progress: number;
  /** members of the replayed group; 0 while its consumers have not been restarted */
  members: number;
  /** epoch ms (gateway clock) of the group's latest snapshot */
  updatedAt: number;
}

export interface SourceState {
  ok: boolean;
  /** the last error, when not ok */
  error?: string;
}

export interface LiveUpdate {
  /** epoch ms on the gateway */
  at: number;
  stages: StageState[];
  lag: GroupLag[];
  pollers: PollerHealth[];
  deadLetters: DeadLetterCount[];
  /** jobs waiting for their workspace (processor gauge); null when no processor reports */
  unresolvedJobs: number | null;
  /** the business KPIs from the gold table, refreshed every few seconds; null until first read */
  kpis: Kpis | null;
  /** the 10 most recent gold jobs */
  recentJobs: JobRow[];
  /** replays per group, from the `replay` role's snapshots; kept 60 s after the last one */
  replays: ReplayState[];
  /** the latest walk of each poller and how it reconciled (gateway/walks/); absent when not reconciled */
  walks?: LatestWalk[];
  sources: {
    kafka: SourceState;
    postgres: SourceState;
    /** role instances that published a snapshot recently */
    metrics: SourceState & { instances: number; lastSnapshotAt: number | null };
  };
}

/** One tick of the rolling history: enough to redraw the throughput and lag charts. */
export interface HistoryPoint {
  at: number;
  rates: Record<StageName, number | null>;
  lag: Record<string, { messages: number; seconds: number }>;
}

export interface RecentJobsQuery {
  status?: JobStatusName;
  limit?: number;
}

export type RecentJobsReply = { ok: true; page: JobsPage } | { ok: false; error: string };
