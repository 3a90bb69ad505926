import type { Generator, JobState, WorkspaceState } from './generator.ts';
import { advanceJob, changeWorkspace, isTerminal } from './lifecycle.ts';
import type { VersionStore } from './store.ts';
import { type EntityName, jobToWire, malform, workspaceToWire } from './wire.ts';

export interface SimulatorOptions {
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
  /** advances the world by one step, synchronously */
  tick(): TickResult;
  /** ticks every `tickMs` while not paused, until stop() */
  start(tickMs: number): void;
  stop(): void;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  counts(): { workspaces: number; jobs: number };
}

/**
 * Creates workspaces and jobs and advances them, writing every change as a new version in the stores.
 *
 * All versions of one tick share the tick's time, and a tick only writes when the clock is strictly
 * past the previous tick. So each record's versions strictly increase, nothing is in the future, and
 * every new version sorts after every existing one: a client paging through the feed meets new
 * versions ahead of its cursor, never behind it.
 */
export function createSimulator(deps: {
  gen: Generator;
  workspaces: VersionStore;
  jobs: VersionStore;
  now: () => number;
  options: SimulatorOptions;
  /** read at every write, so the admin API can change it at runtime */
  malformedRate: () => number;
  startPaused?: boolean;
  onVersion?: (entity: EntityName, malformed: boolean) => void;
  onError?: (err: unknown) => void;
}): Simulator {
  const { gen, now, options } = deps;
  const workspaces = new Map<string, WorkspaceState>();
  const workspaceIds: string[] = [];
  const jobs = new Map<string, JobState>();
  const activeJobIds: string[] = []; // not terminal yet; swap-removed when they finish
  /** records whose latest version is malformed: the next tick writes a valid one */
  const repairs = new Map<string, EntityName>();
  let lastTickAt = Number.NEGATIVE_INFINITY;
  let paused = deps.startPaused ?? false;
  let timer: NodeJS.Timeout | undefined;

  function write(entity: EntityName, state: WorkspaceState | JobState, repair = false): void {
    const isWorkspace = entity === 'workspace';
    const body = isWorkspace ? workspaceToWire(state as WorkspaceState) : jobToWire(state as JobState);
    // always draw, so that the data does not depend on the rate; a repair is never malformed
    const malformed = gen.chance(deps.malformedRate()) && !repair;
    (isWorkspace ? deps.workspaces : deps.jobs).append({
      id: state.id,
      updatedAt: state.updated_at,
      malformed,
      body: malformed ? malform(entity, body, gen) : body,
    });
    if (malformed) repairs.set(state.id, entity);
    else repairs.delete(state.id);
    deps.onVersion?.(entity, malformed);
  }

  function createWorkspace(at: number, createdAt: number, touched: Set<string>): void {
    const ws = gen.workspace({ createdAt, at });
    workspaces.set(ws.id, ws);
    workspaceIds.push(ws.id);
    touched.add(ws.id);
    write('workspace', ws);
    // new customers usually start a job right away: in the same tick, so a consumer of the two
    // feeds may well see the job before its workspace
    const firstJobs = gen.int(0, 2);
    for (let i = 0; i < firstJobs; i++) createJob(ws.id, at, touched);
  }

  function createJob(workspaceId: string, at: number, touched: Set<string>): void {
    if (jobs.size >= options.maxJobs) return;
    const job = gen.job({ workspaceId, at });
    jobs.set(job.id, job);
    activeJobIds.push(job.id);
    touched.add(job.id);
    write('enrichment-job', job);
  }

  function advanceRandomJob(at: number, touched: Set<string>): void {
    if (activeJobIds.length === 0) return;
    const index = gen.int(0, activeJobIds.length - 1);
    const id = activeJobIds[index]!;
    if (touched.has(id)) return; // one version per record per tick: versions must strictly increase
    const next = advanceJob(jobs.get(id)!, at, gen);
    if (!next) return;
    jobs.set(id, next);
    touched.add(id);
    if (isTerminal(next)) {
      activeJobIds[index] = activeJobIds[activeJobIds.length - 1]!;
      activeJobIds.pop();
    }
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
    for (const [id, entity] of [...repairs]) {
      const state = entity === 'workspace' ? workspaces.get(id)! : jobs.get(id)!;
      const fixed = { ...state, updated_at: at };
      if (entity === 'workspace') workspaces.set(id, fixed as WorkspaceState);
      else jobs.set(id, fixed as JobState);
      touched.add(id);
      write(entity, fixed, true);
    }
  }

  // whole milliseconds: the precision of the API's timestamps and of the cursor
  const readClock = () => Math.floor(now());

  function tick(): TickResult {
    const at = readClock();
    if (at <= lastTickAt) return { at, versions: 0, skipped: true };
    lastTickAt = at;
    const before = deps.workspaces.size + deps.jobs.size;
    const touched = new Set<string>();
    repair(at, touched);
    for (let i = 0; i < options.changesPerTick; i++) {
      const r = gen.float();
      if (r < 0.1) {
        if (workspaces.size < options.maxWorkspaces) createWorkspace(at, at, touched);
      } else if (r < 0.25) {
        if (workspaceIds.length > 0) createJob(gen.pick(workspaceIds), at, touched);
      } else if (r < 0.4) changeRandomWorkspace(at, touched);
      else advanceRandomJob(at, touched);
    }
    return { at, versions: deps.workspaces.size + deps.jobs.size - before, skipped: false };
  }

  // the initial population: customers that signed up over the past year, all written at start
  const startAt = readClock();
  lastTickAt = startAt;
  const initial = new Set<string>();
  for (let i = 0; i < options.initialWorkspaces; i++) {
    createWorkspace(startAt, startAt - gen.int(0, 365 * 24 * 3600 * 1000), initial);
  }

  return {
    tick,
    start(tickMs) {
      if (timer) return;
      timer = setInterval(() => {
        if (paused) return;
        try {
          tick();
        } catch (err) {
          deps.onError?.(err);
        }
      }, tickMs);
      timer.unref(); // the HTTP server keeps the process alive, not the simulator
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    get paused() {
      return paused;
    },
    counts: () => ({ workspaces: workspaces.size, jobs: jobs.size }),
  };
}
