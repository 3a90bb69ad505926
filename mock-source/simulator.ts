import { createGenerator, type JobState, type WorkspaceState } from './generator.ts';
import { advanceJob, changeWorkspace, isTerminal } from './lifecycle.ts';
import { type EntityName, jobToWire, malform, workspaceToWire } from './wire.ts';
import {
  emptyBatchVersions,
  type RecordChange,
  type SavedWorld,
  type TickBatch,
  type WorldCounts,
} from './world.ts';

export interface SimulatorOptions {
  seed: number;
  initialWorkspaces: number;
  maxWorkspaces: number;
  maxJobs: number;
  changesPerTick: number;
}

export interface TickResult {
  /** epoch ms: the updated_at of every version written by this tick */
  at: number;
  versions: number;
  /** true when the clock had not moved past the previous tick, so nothing could be written */
  skipped: boolean;
}

export interface Simulator {
  /**
   * Advances the world by one step, synchronously: `periods` × changesPerTick changes (default one
   * period; a timer that fell behind asks for the periods it owes). The batch (absent when skipped)
   * must be kept by the world store before the next tick, or the stored world no longer matches.
   */
  tick(periods?: number): { result: TickResult; batch?: TickBatch };
  /** the initial population of a new world, once; undefined for a world that was loaded */
  takeInitialBatch(): TickBatch | undefined;
  counts(): { workspaces: number; jobs: number };
  stats(): WorldCounts;
}

/**
 * Creates workspaces and jobs and advances them; every change is a new version in the tick's batch.
 *
 * All versions of one tick share the tick's time, and a tick only writes when the clock is strictly
 * past the previous tick (a loaded world's last tick included). So each record's versions strictly
 * increase, nothing is in the future, and every new version sorts after every existing one: a client
 * paging through the feed meets new versions ahead of its cursor, never behind it.
 *
 * Memory holds the current world only: every workspace, the jobs not finished, and the records whose
 * latest version is malformed. Finished jobs never change again, so they live in the store alone.
 */
export function createSimulator(deps: {
  options: SimulatorOptions;
  now: () => number;
  /** a stored world to continue; without it, a new world is populated from the seed now */
  saved?: SavedWorld;
  /** read at every write, so the admin API can change it at runtime */
  malformedRate: () => number;
  onVersion?: (entity: EntityName, malformed: boolean) => void;
}): Simulator {
  const { now, options, saved } = deps;
  const gen = createGenerator({ seed: saved?.state.seed ?? options.seed });
  const workspaces = new Map<string, WorkspaceState>();
  const workspaceIds: string[] = []; // creation order: a record's seq is its position here
  const activeJobs = new Map<string, JobState>();
  const activeJobIds: string[] = []; // not terminal yet; swap-removed when they finish
  const slotOf = new Map<string, number>();
  /** records whose latest version is malformed, with their valid state: the next tick repairs them */
  const repairs = new Map<string, { entity: EntityName; state: WorkspaceState | JobState }>();
  const counts: WorldCounts = saved
    ? { ...saved.state.counts }
    : { workspaces: 0, jobs: 0, workspaceVersions: 0, jobVersions: 0, malformedVersions: 0 };
  let lastTickAt = Number.NEGATIVE_INFINITY;
  let ticks = 0;

  /** what the tick being computed wrote */
  let batch: TickBatch;
  let dirty: Map<string, RecordChange>;

  function begin(previousTicks: number | undefined): void {
    batch = { previousTicks, versions: emptyBatchVersions(), records: [], state: undefined! };
    dirty = new Map();
  }

  function finish(): TickBatch {
    batch.records = [...dirty.values()];
    batch.state = {
      seed: saved?.state.seed ?? options.seed,
      lastTickAt,
      ticks,
      rng: gen.saveRng(),
      counts: { ...counts },
    };
    return batch;
  }

  /** the record's row changed: its state, its slot, or whether its latest version is malformed */
  function touch(entity: EntityName, state: WorkspaceState | JobState, seq = -1): void {
    const previous = dirty.get(state.id);
    dirty.set(state.id, {
      entity,
      id: state.id,
      seq: previous && previous.seq >= 0 ? previous.seq : seq,
      state,
      activeSlot: slotOf.get(state.id) ?? null,
      malformed: repairs.has(state.id),
    });
  }

  function write(entity: EntityName, state: WorkspaceState | JobState, seq = -1, repair = false): void {
    const isWorkspace = entity === 'workspace';
    const body = isWorkspace ? workspaceToWire(state as WorkspaceState) : jobToWire(state as JobState);
    // always draw, so that the data does not depend on the rate; a repair is never malformed
    const malformed = gen.chance(deps.malformedRate()) && !repair;
    batch.versions[entity].push({
      id: state.id,
      updatedAt: state.updated_at,
      malformed,
      body: malformed ? malform(entity, body, gen) : body,
    });
    if (isWorkspace) counts.workspaceVersions++;
    else counts.jobVersions++;
    if (malformed) {
      counts.malformedVersions++;
      repairs.set(state.id, { entity, state });
    } else repairs.delete(state.id);
    touch(entity, state, seq);
    deps.onVersion?.(entity, malformed);
  }

  function addWorkspace(ws: WorkspaceState): number {
    workspaces.set(ws.id, ws);
    workspaceIds.push(ws.id);
    return workspaceIds.length - 1;
  }

  function addActiveJob(job: JobState): void {
    activeJobs.set(job.id, job);
    activeJobIds.push(job.id);
    slotOf.set(job.id, activeJobIds.length - 1);
  }

  function createWorkspace(at: number, createdAt: number, touched: Set<string>): void {
    const ws = gen.workspace({ createdAt, at });
    const seq = addWorkspace(ws);
    counts.workspaces++;
    touched.add(ws.id);
    write('workspace', ws, seq);
    // new customers usually start a job right away: in the same tick, so a consumer of the two
    // feeds may well see the job before its workspace
    const firstJobs = gen.int(0, 2);
    for (let i = 0; i < firstJobs; i++) createJob(ws.id, at, touched);
  }

  function createJob(workspaceId: string, at: number, touched: Set<string>): void {
    if (counts.jobs >= options.maxJobs) return;
    const job = gen.job({ workspaceId, at });
    addActiveJob(job);
    const seq = counts.jobs++;
    touched.add(job.id);
    write('enrichment-job', job, seq);
  }

  function advanceRandomJob(at: number, touched: Set<string>): void {
    if (activeJobIds.length === 0) return;
    const index = gen.int(0, activeJobIds.length - 1);
    const id = activeJobIds[index]!;
    if (touched.has(id)) return; // one version per record per tick: versions must strictly increase
    const next = advanceJob(activeJobs.get(id)!, at, gen);
    if (!next) return;
    touched.add(id);
    if (isTerminal(next)) {
      activeJobs.delete(id);
      slotOf.delete(id);
      const moved = activeJobIds[activeJobIds.length - 1]!;
      activeJobIds[index] = moved;
      activeJobIds.pop();
      if (moved !== id) {
        slotOf.set(moved, index);
        touch('enrichment-job', activeJobs.get(moved)!); // its row keeps its new slot
      }
    } else activeJobs.set(id, next);
    write('enrichment-job', next);
  }

  function changeRandomWorkspace(at: number, touched: Set<string>): void {
    if (workspaceIds.length === 0) return;
    const id = gen.pick(workspaceIds);
    if (touched.has(id)) return;
    const next = changeWorkspace(workspaces.get(id)!, at, gen);
    workspaces.set(id, next);
    touched.add(id);
    write('workspace', next);
  }

  function repair(at: number, touched: Set<string>): void {
    for (const [id, { entity, state }] of [...repairs]) {
      const fixed = { ...state, updated_at: at };
      if (entity === 'workspace') workspaces.set(id, fixed as WorkspaceState);
      else if (activeJobs.has(id)) activeJobs.set(id, fixed as JobState);
      touched.add(id);
      write(entity, fixed, -1, true);
    }
  }

  // whole milliseconds: the precision of the API's timestamps and of the cursor
  const readClock = () => Math.floor(now());

  function tick(periods = 1): { result: TickResult; batch?: TickBatch } {
    const at = readClock();
    if (at <= lastTickAt) return { result: { at, versions: 0, skipped: true } };
    begin(ticks);
    lastTickAt = at;
    ticks++;
    const touched = new Set<string>();
    repair(at, touched);
    for (let i = 0; i < options.changesPerTick * periods; i++) {
      const r = gen.float();
      if (r < 0.1) {
        if (workspaces.size < options.maxWorkspaces) createWorkspace(at, at, touched);
      } else if (r < 0.25) {
        if (workspaceIds.length > 0) createJob(gen.pick(workspaceIds), at, touched);
      } else if (r < 0.4) changeRandomWorkspace(at, touched);
      else advanceRandomJob(at, touched);
    }
    const done = finish();
    const versions = done.versions.workspace.length + done.versions['enrichment-job'].length;
    return { result: { at, versions, skipped: false }, batch: done };
  }

  let initial: TickBatch | undefined;
  if (saved) {
    gen.restoreRng(saved.state.rng);
    for (const ws of saved.workspaces) addWorkspace(ws);
    for (const job of saved.activeJobs) addActiveJob(job);
    for (const r of saved.repairs) repairs.set(r.state.id, r);
    lastTickAt = saved.state.lastTickAt;
    ticks = saved.state.ticks;
  } else {
    // the initial population: customers that signed up over the past year, all written at start
    begin(undefined);
    const startAt = readClock();
    lastTickAt = startAt;
    const touched = new Set<string>();
    for (let i = 0; i < options.initialWorkspaces; i++) {
      createWorkspace(startAt, startAt - gen.int(0, 365 * 24 * 3600 * 1000), touched);
    }
    initial = finish();
  }

  return {
    tick,
    takeInitialBatch() {
      const taken = initial;
      initial = undefined;
      return taken;
    },
    counts: () => ({ workspaces: counts.workspaces, jobs: counts.jobs }),
    stats: () => ({ ...counts }),
  };
}
