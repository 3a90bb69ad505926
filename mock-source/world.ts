import type { JobState, WorkspaceState } from './generator.ts';
import type { RngState } from './mersenne.ts';
import type { FeedPosition, PageQuery, StoredVersion } from './store.ts';
import type { EntityName } from './wire.ts';

/**
 * The mock source's world and where it lives. The simulator is pure computation: each tick (and the
 * initial population) gives a `TickBatch` — the versions it wrote, the records it changed and the
 * simulator's own state after it — and a `WorldStore` keeps it: in Postgres for the role (pg-world.ts),
 * in memory for unit tests (memory-world.ts). A batch is kept whole or not at all, so a stored world
 * always continues from a tick boundary: same records, same random sequence, later timestamps.
 */
export type Awaitable<T> = T | Promise<T>;

export interface WorldCounts {
  workspaces: number;
  jobs: number;
  workspaceVersions: number;
  jobVersions: number;
  malformedVersions: number;
}

/** Everything of the simulator that is not a record. */
export interface SimulatorState {
  /** the seed the world was created with */
  seed: number;
  /** epoch ms of the last tick that wrote (the initial population is tick 0) */
  lastTickAt: number;
  /** ticks written since the world was created */
  ticks: number;
  rng: RngState;
  counts: WorldCounts;
}

/** One record's row after a tick: its state, and where the simulator keeps it. */
export interface RecordChange {
  entity: EntityName;
  id: string;
  /** creation order (the simulator draws workspaces by position) of a new record; -1 for an existing one */
  seq: number;
  /** the simulator's valid state of the record, whatever the defect of its latest version */
  state: WorkspaceState | JobState;
  /** a job not finished: its position in the simulator's list of active jobs; otherwise null */
  activeSlot: number | null;
  /** the latest version is malformed: the next tick writes a valid one */
  malformed: boolean;
}

export interface TickBatch {
  /** the `ticks` of the stored state this batch follows; undefined for a new world */
  previousTicks?: number;
  versions: Record<EntityName, StoredVersion[]>;
  /** at most one change per record */
  records: RecordChange[];
  state: SimulatorState;
}

/** What a restarted simulator needs to continue a stored world. */
export interface SavedWorld {
  state: SimulatorState;
  /** in creation order */
  workspaces: WorkspaceState[];
  /** the jobs not finished, in slot order */
  activeJobs: JobState[];
  /** records whose latest version is malformed, with their valid state */
  repairs: Array<{ entity: EntityName; state: WorkspaceState | JobState }>;
}

/** A version as the list endpoints serve it: the JSON exactly as written. */
export interface ServedVersion extends FeedPosition {
  body: Record<string, unknown> | string;
}

/** The read side of one entity's change feed. */
export interface FeedReader {
  /** `more` is true when versions after the page exist now */
  page(query: PageQuery): Awaitable<{ items: ServedVersion[]; more: boolean }>;
  latest(id: string): Awaitable<ServedVersion | undefined>;
  /** every version in feed order (the admin API, for tests) */
  list(): Awaitable<ReadonlyArray<FeedPosition & { malformed: boolean }>>;
}

export interface WorldStore {
  readonly workspaces: FeedReader;
  readonly jobs: FeedReader;
  /** the stored world, or undefined when the store is empty */
  load(): Awaitable<SavedWorld | undefined>;
  /** keeps a batch whole; rejects when the stored world is not the one the batch follows */
  commit(batch: TickBatch): Awaitable<void>;
  /** the counts of the world as stored (zeros for an empty store) */
  counts(): Awaitable<WorldCounts>;
  close(): Promise<void>;
}

/** the JSON text of a served version */
export const bodyJson = (v: ServedVersion) => (typeof v.body === 'string' ? v.body : JSON.stringify(v.body));

export const NO_COUNTS: WorldCounts = {
  workspaces: 0,
  jobs: 0,
  workspaceVersions: 0,
  jobVersions: 0,
  malformedVersions: 0,
};

export function emptyBatchVersions(): Record<EntityName, StoredVersion[]> {
  return { workspace: [], 'enrichment-job': [] };
}
