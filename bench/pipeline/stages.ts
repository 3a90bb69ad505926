import type { Admin, Kafka } from 'kafkajs';
import type { Collection, Document } from 'mongodb';
import type pg from 'pg';
import { METRICS } from '../../contracts/metrics/index.ts';
import { groupLag } from '../../ops/lag.ts';
import { type Progress, type Sample, STAGES, type StageKey, stalledStage } from './analysis.ts';
import type { RolesInProcess } from './roles.ts';
import type { SourceAdmin } from './source.ts';
import type { RunNames } from './world.ts';

/**
 * Samples every stage's count once a second, in one go: the source (admin stats), the pollers
 * (their committed-records counter), the raw and gold topics (end offsets, transaction markers
 * included), bronze and gold rows (counts in the run's database), joined records (the processor's
 * counter), gold documents (the run's collection), each group's lag and the process's RSS.
 */
export interface StageDeps {
  n: RunNames;
  kafka: Kafka;
  admin: Admin;
  /** the run's database */
  pool: pg.Pool;
  gold: Collection<Document>;
  source: SourceAdmin;
  roles: RolesInProcess;
  partitions: number;
}

/**
 * A read that never holds a sample up for more than `waitMs`: while a slow answer is pending (a
 * store busy with a sink's backlog, an event loop busy with the roles), the sample takes the last
 * value, and no second read is sent. Errors still fail the sample.
 */
function latest<T>(read: () => Promise<T>, initial: T, waitMs = 700): () => Promise<T> {
  let last = initial;
  let inFlight: Promise<void> | undefined;
  return async () => {
    inFlight ??= read()
      .then((v) => {
        last = v;
      })
      .finally(() => {
        inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([inFlight, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return last;
  };
}

export function createStageSampler(deps: StageDeps) {
  const { n, admin } = deps;
  const t = n.topics;
  const groupTopics: Record<string, string[]> = {
    [n.groups.bronzeWorkspaces]: [t.rawWorkspaces],
    [n.groups.bronzeJobs]: [t.rawJobs],
    [n.groups.processor]: [t.rawWorkspaces, t.rawJobs],
    [n.groups.goldPostgres]: [t.gold],
    [n.groups.goldMongo]: [t.gold],
  };

  async function endOffsets(topic: string): Promise<Map<number, { low: number; high: number }>> {
    const parts = await admin.fetchTopicOffsets(topic);
    return new Map(parts.map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
  }

  const stats = latest<{ versions: number; jobs: number }>(() => deps.source.stats(), {
    versions: 0,
    jobs: 0,
  });
  const rows = latest(
    async () =>
      (
        await deps.pool.query<{ bronze: string; gold: string }>(
          `select (select count(*) from bronze.workspaces) + (select count(*) from bronze.enrichment_jobs) as bronze,
                  (select count(*) from gold.enrichment_jobs) as gold`,
        )
      ).rows[0]!,
    { bronze: '0', gold: '0' },
  );
  const mongoCount = latest(() => deps.gold.estimatedDocumentCount(), 0);
  type Ends = Map<number, { low: number; high: number }>;
  /** end offsets and each group's committed offsets, read together so that lag is consistent */
  const offsets = latest(
    async () => {
      const [ws, jobs, gold] = await Promise.all([
        endOffsets(t.rawWorkspaces),
        endOffsets(t.rawJobs),
        endOffsets(t.gold),
      ]);
      const byTopic = new Map<string, Ends>([
        [t.rawWorkspaces, ws],
        [t.rawJobs, jobs],
        [t.gold, gold],
      ]);
      const lag: Record<string, number> = {};
      const committed: Record<string, number> = {};
      await Promise.all(
        Object.entries(groupTopics).map(async ([group, topics]) => {
          let behind = 0;
          let at = 0;
          for (const ct of await admin.fetchOffsets({ groupId: group, topics })) {
            for (const p of ct.partitions) {
              const end = byTopic.get(ct.topic)?.get(p.partition);
              if (!end) continue;
              const offset = Number(p.offset) < 0 ? end.low : Number(p.offset);
              behind += Math.max(0, end.high - offset);
              at += offset;
            }
          }
          lag[group] = behind;
          committed[group] = at;
        }),
      );
      const sumHigh = (ends: Ends) => [...ends.values()].reduce((sum, p) => sum + p.high, 0);
      return { raw: sumHigh(ws) + sumHigh(jobs), gold: sumHigh(gold), lag, committed };
    },
    { raw: 0, gold: 0, lag: {} as Record<string, number>, committed: {} as Record<string, number> },
  );

  async function sample(t0: number): Promise<Sample> {
    const [s, polled, dlqPolled, joined, joinedDlq, r, mongo, o] = await Promise.all([
      stats(),
      deps.roles.metricSum(METRICS.pollers.published),
      deps.roles.metricSum(METRICS.pollers.deadLettered),
      deps.roles.metricSum(METRICS.processor.goldRecords),
      deps.roles.metricSum(METRICS.processor.deadLettered),
      rows(),
      mongoCount(),
      offsets(),
    ]);
    const counts: Record<StageKey, number> = {
      source: s.versions,
      polled: polled + dlqPolled,
      raw: o.raw,
      bronze: Number(r.bronze),
      joined: joined + joinedDlq,
      goldTopic: o.gold,
      goldPostgres: Number(r.gold),
      goldMongo: mongo,
    };
    return {
      t: Date.now() - t0,
      counts,
      jobs: s.jobs,
      lag: o.lag,
      committed: o.committed,
      rss: process.memoryUsage().rss,
    };
  }

  /**
   * Whether a stage has caught up with the source at this sample. A group at rest still shows up to
   * one transaction marker per partition after its committed offset, hence the tolerance.
   */
  function done(s: Sample): (stage: StageKey) => boolean {
    const tolerance = 2 * deps.partitions;
    const c = s.counts;
    const rested = (group: string) => (s.lag[group] ?? Number.POSITIVE_INFINITY) <= tolerance;
    const polled = c.polled >= c.source;
    const raw = polled && c.raw >= c.polled;
    const joined = raw && rested(n.groups.processor);
    const result: Record<StageKey, boolean> = {
      source: true,
      polled,
      raw,
      bronze: c.bronze >= c.source,
      joined,
      goldTopic: joined,
      goldPostgres: joined && c.goldPostgres >= s.jobs && rested(n.groups.goldPostgres),
      goldMongo: joined && c.goldMongo >= s.jobs && rested(n.groups.goldMongo),
    };
    return (stage) => result[stage];
  }

  /** A stage moves when its count does or when one of its consumer groups commits. */
  const groupsOf: Partial<Record<StageKey, string[]>> = {
    bronze: [n.groups.bronzeWorkspaces, n.groups.bronzeJobs],
    joined: [n.groups.processor],
    goldTopic: [n.groups.processor],
    goldPostgres: [n.groups.goldPostgres],
    goldMongo: [n.groups.goldMongo],
  };
  const progress: Progress = (s, stage) =>
    (groupsOf[stage] ?? []).reduce((sum, g) => sum + (s.committed[g] ?? 0), s.counts[stage]);

  /** Every group has consumed everything (exact: trailing transaction markers count as consumed). */
  async function drained(): Promise<boolean> {
    for (const [group, topics] of Object.entries(groupTopics)) {
      const lag = await groupLag({ kafka: deps.kafka, admin }, group, { topics });
      if (lag.lagMessages > 0) return false;
    }
    return true;
  }

  return { sample, done, drained, progress, groups: Object.keys(groupTopics) };
}

export type StageSampler = ReturnType<typeof createStageSampler>;

type SampleOptions = Parameters<typeof sampleUntil>[0];

/**
 * Starts roles while the sampling already runs, so that what the first roles do while a later one
 * is still starting (a store slow to answer, a processor restoring) is measured too. Nothing can
 * stall or complete before every role is up.
 */
export async function startWhileSampling(
  start: () => Promise<void>,
  opts: Omit<SampleOptions, 'readyAt'>,
): Promise<{ outcome: RunOutcome; rolesStartMs: number }> {
  let readyAt: number | undefined;
  let failure: { err: unknown } | undefined;
  const failed = new AbortController();
  const starting = start().then(
    () => {
      readyAt = Date.now() - opts.t0;
    },
    (err: unknown) => {
      failure = { err };
      failed.abort();
    },
  );
  const outcome = await sampleUntil({
    ...opts,
    readyAt: () => readyAt,
    signal: opts.signal ? AbortSignal.any([opts.signal, failed.signal]) : failed.signal,
  });
  await starting;
  if (failure) throw failure.err;
  return { outcome, rolesStartMs: readyAt ?? Date.now() - opts.t0 };
}

export type RunOutcome =
  | { kind: 'complete' }
  | { kind: 'stalled'; stage: StageKey }
  | { kind: 'timeout' }
  | { kind: 'interrupted' };

/**
 * Samples once a second until every stage is done and the groups are drained, or for `forMs` when
 * given (complete); until a stage stops moving for `stallMs` (stalled); or until `timeoutMs` passes.
 * Every sample is appended to `samples`.
 */
export async function sampleUntil(opts: {
  sampler: StageSampler;
  samples: Sample[];
  t0: number;
  forMs?: number;
  stallMs: number;
  timeoutMs: number;
  onSample?: (s: Sample) => void | Promise<void>;
  /** Ctrl-C: ends the sampling, and the run goes on to its report and clean-up */
  signal?: AbortSignal;
  /** ms since t0 when every role was up; until then (undefined) nothing can complete or stall */
  readyAt?: () => number | undefined;
}): Promise<RunOutcome> {
  const started = Date.now();
  const since = opts.samples.length;
  for (;;) {
    const next = Date.now() + 1000;
    const s = await opts.sampler.sample(opts.t0);
    opts.samples.push(s);
    await opts.onSample?.(s);
    const done = opts.sampler.done(s);
    const readyAt = opts.readyAt ? opts.readyAt() : 0;
    if (readyAt === undefined) {
      // roles still starting: only sample
    } else if (opts.forMs !== undefined) {
      if (Date.now() - started >= opts.forMs) return { kind: 'complete' };
    } else if (STAGES.every(done) && (await opts.sampler.drained())) return { kind: 'complete' };
    if (readyAt !== undefined) {
      const window = opts.samples.slice(since).filter((x) => x.t >= readyAt);
      const stalled = stalledStage(window, done, opts.stallMs, opts.sampler.progress);
      if (stalled) return { kind: 'stalled', stage: stalled };
    }
    if (Date.now() - started > opts.timeoutMs) return { kind: 'timeout' };
    if (opts.signal?.aborted) return { kind: 'interrupted' };
    const until = opts.forMs === undefined ? next : Math.min(next, started + opts.forMs);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
  }
}
