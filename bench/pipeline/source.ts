/**
 * The mock source, driven through its public admin API (mock-source/README.md), so the benchmark
 * keeps working whatever the source stores its versions in.
 *
 * Seeding: the initial population (TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES, each with 0-2 jobs)
 * is written at start with ONE updated_at; the rest comes from `POST /admin/simulator/tick` while
 * the simulator is paused, each tick making up to 1000 changes (the most the source allows) at the
 * tick's instant. A record gets at most one version per instant, so the versions sharing one
 * updated_at are at most the initial population's.
 */
export interface SourceStats {
  workspaces: number;
  jobs: number;
  workspaceVersions: number;
  jobVersions: number;
  malformedVersions: number;
  paused: boolean;
}

export interface SourceAdmin {
  stats(): Promise<SourceStats & { versions: number }>;
  tick(): Promise<{ versions: number; skipped: boolean }>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export function sourceAdmin(url: string, token: string): SourceAdmin {
  async function call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    const res = await fetch(`${url}/admin${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    if (!res.ok)
      throw new Error(`mock source ${method} /admin${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
  return {
    async stats() {
      const s = await call<SourceStats>('GET', '/stats');
      return { ...s, versions: s.workspaceVersions + s.jobVersions };
    },
    tick: () => call('POST', '/simulator/tick'),
    pause: () => call('POST', '/simulator/pause').then(() => undefined),
    resume: () => call('POST', '/simulator/resume').then(() => undefined),
  };
}

/** The mock source's settings for a backfill of `versions` over `workspaces`. */
export function backfillSourceEnv(o: {
  workspaces: number;
  initialWorkspaces: number;
}): Record<string, string> {
  return {
    TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: String(o.initialWorkspaces),
    TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: String(o.workspaces),
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '1000000',
    TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '1000',
    // paused: only the benchmark's ticks write; the period does not matter
    TRIBUTARY_MOCK_SOURCE_TICK_MS: '1000',
  };
}

/** The mock source's settings for a sustained run: `rate` changes a second, in ticks of `tickMs`. */
export function sustainedSourceEnv(o: {
  workspaces: number;
  rate: number;
  tickMs: number;
}): Record<string, string> {
  return {
    TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: String(o.workspaces),
    TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '100000',
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '1000000',
    TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: String(Math.round((o.rate * o.tickMs) / 1000)),
    TRIBUTARY_MOCK_SOURCE_TICK_MS: String(o.tickMs),
  };
}

export interface SeedResult {
  versions: number;
  jobs: number;
  workspaces: number;
  /** versions written at start, all with one updated_at */
  sharedTimestamp: number;
  ticks: number;
  /** ms the ticks took (the initial population is written while the role starts) */
  tickMs: number;
}

/** Ticks the paused source until it holds at least `versions` versions. */
export async function seed(admin: SourceAdmin, versions: number): Promise<SeedResult> {
  const initial = await admin.stats();
  let have = initial.versions;
  let ticks = 0;
  let idle = 0;
  const started = performance.now();
  while (have < versions) {
    const t = await admin.tick();
    if (t.skipped) continue; // the clock has not moved a millisecond since the last tick
    ticks++;
    have += t.versions;
    // the population is bounded (finished jobs never change): a world that stops growing is a bug here
    idle = t.versions === 0 ? idle + 1 : 0;
    if (idle > 100) throw new Error(`the mock source stopped growing at ${have} versions`);
  }
  const tickMs = performance.now() - started;
  const s = await admin.stats();
  return {
    versions: s.versions,
    jobs: s.jobs,
    workspaces: s.workspaces,
    sharedTimestamp: initial.versions,
    ticks,
    tickMs,
  };
}
