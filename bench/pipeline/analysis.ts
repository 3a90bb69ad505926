/**
 * The pure part of the benchmark: what the samples say (stage rates, stalls, bounded lag,
 * percentiles). Unit-tested in analysis.test.ts; the sampling itself is in stages.ts.
 */
export const STAGES = [
  'source',
  'polled',
  'raw',
  'bronze',
  'joined',
  'goldTopic',
  'goldPostgres',
  'goldMongo',
] as const;
export type StageKey = (typeof STAGES)[number];

export const STAGE_LABELS: Record<StageKey, string> = {
  source: 'source versions',
  polled: 'polled (pollers, committed)',
  raw: 'raw topics (end offsets)',
  bronze: 'bronze rows',
  joined: 'joined (processor, gold records)',
  goldTopic: 'gold topic (end offsets)',
  goldPostgres: 'gold rows in Postgres',
  goldMongo: 'gold docs in MongoDB',
};

export interface Sample {
  /** ms since the pipeline roles started */
  t: number;
  counts: Record<StageKey, number>;
  /** source jobs (distinct), the count each gold store ends with */
  jobs: number;
  /** end offsets minus committed offsets, per consumer group (transaction markers included) */
  lag: Record<string, number>;
  /** sum of the committed offsets, per consumer group: moves whenever the group does work */
  committed: Record<string, number>;
  rss: number;
}

export interface StageSummary {
  stage: StageKey;
  /** count at the first and last sample */
  first: number;
  final: number;
  /** ms: the last sample before the count first moved, and the first sample at its final value */
  startedAt: number | null;
  reachedAt: number | null;
  /** (final - first) per second between those two instants */
  rate: number | null;
}

export function summarizeStage(samples: readonly Sample[], stage: StageKey): StageSummary {
  const first = samples[0]?.counts[stage] ?? 0;
  const final = samples.at(-1)?.counts[stage] ?? 0;
  if (samples.length === 0 || final === first)
    return { stage, first, final, startedAt: null, reachedAt: null, rate: null };
  const moved = samples.findIndex((s) => s.counts[stage] !== first);
  const startedAt = samples[Math.max(0, moved - 1)]!.t;
  const reachedAt = samples.find((s) => s.counts[stage] === final)!.t;
  const ms = reachedAt - startedAt;
  return { stage, first, final, startedAt, reachedAt, rate: ms > 0 ? ((final - first) * 1000) / ms : null };
}

/** What shows a stage working: its count by default (a sink updating existing rows also commits offsets). */
export type Progress = (s: Sample, stage: StageKey) => number;
const byCount: Progress = (s, stage) => s.counts[stage];

/** The time of the last sample at which `stage` moved (the first sample's when it never did). */
export function lastMove(samples: readonly Sample[], stage: StageKey, progress: Progress = byCount): number {
  for (let i = samples.length - 1; i > 0; i--) {
    if (progress(samples[i]!, stage) !== progress(samples[i - 1]!, stage)) return samples[i]!.t;
  }
  return samples[0]?.t ?? 0;
}

/**
 * The stage the pipeline is stuck at: the most upstream stage that is not done and has not moved
 * for `stallMs`. Downstream stages of a stuck one stop too, so the first one is the culprit; the
 * source is the driver and never counts.
 */
export function stalledStage(
  samples: readonly Sample[],
  done: (stage: StageKey) => boolean,
  stallMs: number,
  progress: Progress = byCount,
): StageKey | undefined {
  const now = samples.at(-1)?.t;
  if (now === undefined) return undefined;
  return STAGES.find((s) => s !== 'source' && !done(s) && now - lastMove(samples, s, progress) >= stallMs);
}

/** The least-squares slope of `ys` over `xs` (per unit of x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface LagVerdict {
  group: string;
  max: number;
  last: number;
  /** messages per second over the last quarter of the window (least squares) */
  slope: number;
  /** slope × the last quarter's duration: how much the lag grew there */
  growth: number;
  bounded: boolean;
}

/**
 * Bounded = not growing over the last 25 % of the window: there, the fitted lag grew by less than
 * one second of the source's input (at least 50 messages). A consumer that commits in batches has a
 * saw-tooth lag whose teeth can be that big without it falling behind; one that cannot keep up
 * grows by a share of the input every second.
 */
export function lagVerdict(
  group: string,
  points: ReadonlyArray<{ t: number; lag: number }>,
  rate: number,
): LagVerdict {
  const tail = points.slice(Math.floor(points.length * 0.75));
  const s = slope(
    tail.map((p) => p.t / 1000),
    tail.map((p) => p.lag),
  );
  const seconds = tail.length >= 2 ? (tail.at(-1)!.t - tail[0]!.t) / 1000 : 0;
  const growth = s * seconds;
  return {
    group,
    max: Math.max(0, ...points.map((p) => p.lag)),
    last: points.at(-1)?.lag ?? 0,
    slope: s,
    growth,
    bounded: tail.length >= 2 && growth <= Math.max(50, rate),
  };
}

/** The p-th percentile (0-100) by nearest rank; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
