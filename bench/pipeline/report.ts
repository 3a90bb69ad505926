import Table from 'cli-table3';
import { type LagVerdict, STAGE_LABELS, type StageKey, type StageSummary } from './analysis.ts';
import type { Ceiling } from './ceilings.ts';
import type { FreshnessSummary } from './freshness.ts';
import type { SeedResult } from './source.ts';
import type { RunOutcome } from './stages.ts';

/** What a run found, printed as tables for a person or as JSON (--json) for a machine. */
export interface Common {
  run: string;
  settings: Record<string, string | number>;
  outcome: RunOutcome & { atSeconds: number };
  stallSeconds: number;
  problems: Array<{ role: string; msg: string; count: number }>;
  peakRssMiB: number;
  /** how long the shared event loop was blocked while the roles ran */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rolesStartMs: number;
  /** ms each role took to start, in start order */
  roleStartMs: Record<string, number>;
  logFile: string;
  lateClosing: string[];
}

export interface StageResult extends StageSummary {
  /** the bare ceiling that bounds this stage, its rate, and this stage's rate as a share of it */
  ceiling?: Ceiling['key'];
  ceilingRate?: number;
  ratio?: number;
}

export interface CeilingResult extends Ceiling {
  /** count per second */
  rate: number;
  /**
   * The fastest the whole backfill could go if this were its only cost: the stage's full work
   * (every version, or every job for gold) at the ceiling's rate, even when the run stalled early.
   */
  boundVersionsPerSecond: number;
}

export interface BackfillResult extends Common {
  mode: 'backfill';
  source: SeedResult & { initialMs: number };
  stages: StageResult[];
  ceilings: CeilingResult[];
  endToEnd: {
    versions: number;
    seconds: number | null;
    rate: number | null;
    slowestCeiling?: Ceiling['key'];
    /** the end-to-end rate as a share of the slowest ceiling's bound */
    ofSlowestCeiling?: number;
  };
  /** distinct job ids on the gold topic, read after the run */
  goldTopicJobs?: number;
}

export interface SustainedResult extends Common {
  mode: 'sustained';
  warmup: { outcome: RunOutcome['kind']; seconds: number; versions: number };
  window: {
    seconds: number;
    requestedChangesPerSecond: number;
    sourceVersions: number;
    stages: Array<{ stage: StageKey; delta: number; rate: number }>;
  };
  freshness: FreshnessSummary[];
  pollIntervalMs: number;
  lag: LagVerdict[];
  drain: { outcome: RunOutcome['kind']; seconds: number };
}

/** Which bare ceiling bounds which stage. */
const CEILING_OF: Partial<Record<StageKey, Ceiling['key']>> = {
  polled: 'sourceWalk',
  raw: 'produce',
  bronze: 'copyBronze',
  joined: 'consume',
  goldPostgres: 'copyGold',
  goldMongo: 'mongoInsert',
};

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '-'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : fmt(ms / 1000, 1));
const perSecond = (c: Ceiling) => (c.count * 1000) / c.ms;

/** Each stage against its ceiling, each ceiling as a bound on the whole backfill. */
export function againstCeilings(
  stages: StageSummary[],
  raw: Ceiling[],
  source: { versions: number; jobs: number },
  endToEndRate: number | null,
): Pick<BackfillResult, 'stages' | 'ceilings'> &
  Pick<BackfillResult['endToEnd'], 'slowestCeiling' | 'ofSlowestCeiling'> {
  const ceilings: CeilingResult[] = raw.map((c) => ({
    ...c,
    rate: perSecond(c),
    boundVersionsPerSecond:
      (source.versions * perSecond(c)) /
      (c.key === 'copyGold' || c.key === 'mongoInsert' ? source.jobs : source.versions),
  }));
  const byKey = new Map(ceilings.map((c) => [c.key, c]));
  const slowest = [...ceilings].sort((a, b) => a.boundVersionsPerSecond - b.boundVersionsPerSecond)[0];
  return {
    stages: stages.map((st) => {
      const c = CEILING_OF[st.stage] ? byKey.get(CEILING_OF[st.stage]!) : undefined;
      if (!c) return st;
      return {
        ...st,
        ceiling: c.key,
        ceilingRate: c.rate,
        ratio: st.rate === null ? undefined : st.rate / c.rate,
      };
    }),
    ceilings,
    slowestCeiling: slowest?.key,
    ofSlowestCeiling:
      slowest && endToEndRate !== null ? endToEndRate / slowest.boundVersionsPerSecond : undefined,
  };
}
/** cli-table3 colours its borders and headings: only for a terminal, not in a file or a pipe. */
const table = (head: string[], align: Array<'left' | 'right'>) =>
  new Table({
    head,
    colAligns: align,
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });

function outcomeLine(r: Common): string {
  const o = r.outcome;
  if (o.kind === 'complete') return `complete after ${fmt(o.atSeconds, 1)} s`;
  if (o.kind === 'stalled')
    return (
      `STALLED at ${STAGE_LABELS[o.stage]}: neither its count nor its consumer group's offsets moved for ` +
      `${r.stallSeconds} s (at ${fmt(o.atSeconds, 1)} s)`
    );
  if (o.kind === 'interrupted') return `INTERRUPTED (Ctrl-C) after ${fmt(o.atSeconds, 1)} s`;
  return `TIMED OUT after ${fmt(o.atSeconds, 1)} s`;
}

function footer(r: Common): string[] {
  const d = r.eventLoopDelayMs;
  const lines = [
    `peak RSS of the process: ${fmt(r.peakRssMiB)} MiB; event loop delay p50 ${d.p50} ms, p99 ${d.p99} ms, max ${fmt(d.max)} ms`,
    `roles started in ${fmt(r.rolesStartMs)} ms (${Object.entries(r.roleStartMs)
      .filter(([role]) => role !== 'mock-source')
      .map(([role, ms]) => `${role} ${fmt(ms)}`)
      .join(', ')}), after the mock source (${fmt(r.roleStartMs['mock-source'])} ms)`,
  ];
  if (r.problems.length > 0) {
    lines.push('warnings and errors in the role logs (most frequent first):');
    for (const p of r.problems) lines.push(`  ${p.count}× ${p.role}: ${p.msg.split('\n')[0]!.slice(0, 300)}`);
  }
  for (const l of r.lateClosing) lines.push(`on close: ${l}`);
  lines.push(`role logs: ${r.logFile}`);
  return lines;
}

function settingsLine(s: Record<string, string | number>): string {
  return Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join('  ');
}

export function backfillReport(r: BackfillResult): string {
  const s = r.source;
  const out = [
    `run ${r.run} (backfill): ${fmt(s.versions)} source versions (${fmt(s.workspaces)} workspaces, ${fmt(s.jobs)} jobs); ` +
      `${fmt(s.sharedTimestamp)} (${fmt((100 * s.sharedTimestamp) / s.versions)} %) share one updated_at`,
    `seeding: initial population in ${fmt(s.initialMs)} ms, then ${s.ticks} ticks in ${fmt(s.tickMs)} ms ` +
      `(${fmt(((s.versions - s.sharedTimestamp) * 1000) / Math.max(1, s.tickMs))} versions/s)`,
    settingsLine(r.settings),
    `outcome: ${outcomeLine(r)}`,
  ];
  const stages = table(
    ['stage', 'count', 'moving from (s)', 'final at (s)', 'rate /s', 'ceiling /s', 'rate / ceiling'],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  for (const st of r.stages) {
    if (st.stage === 'source') continue;
    stages.push([
      STAGE_LABELS[st.stage],
      fmt(st.final),
      secs(st.startedAt),
      secs(st.reachedAt),
      fmt(st.rate),
      fmt(st.ceilingRate),
      st.ratio === undefined ? '-' : `${fmt(100 * st.ratio, 1)} %`,
    ]);
  }
  out.push(stages.toString());
  const e = r.endToEnd;
  if (r.ceilings.length > 0) {
    const ceilingTable = table(
      ['bare ceiling (same data, after the run)', 'count', 's', 'rate /s', 'bound on e2e versions/s'],
      ['left', 'right', 'right', 'right', 'right'],
    );
    for (const c of r.ceilings)
      ceilingTable.push([
        c.label,
        `${fmt(c.count)} ${c.unit}`,
        fmt(c.ms / 1000, 2),
        fmt(c.rate),
        fmt(c.boundVersionsPerSecond),
      ]);
    out.push(ceilingTable.toString());
  }
  const slowest = r.ceilings.find((c) => c.key === e.slowestCeiling);
  out.push(
    `end to end: ${e.rate === null ? `not finished (${outcomeLine(r)})` : `${fmt(e.versions)} versions in ${fmt(e.seconds, 1)} s = ${fmt(e.rate)} versions/s`}` +
      (slowest
        ? `; slowest ceiling: ${slowest.label}, ${fmt(slowest.boundVersionsPerSecond)} versions/s` +
          (e.ofSlowestCeiling !== undefined
            ? ` → end to end is ${fmt(100 * e.ofSlowestCeiling, 1)} % of it`
            : '')
        : ''),
  );
  if (r.goldTopicJobs !== undefined)
    out.push(`gold topic: ${fmt(r.goldTopicJobs)} distinct jobs (source: ${fmt(s.jobs)})`);
  out.push(...footer(r));
  return out.join('\n');
}

export function sustainedReport(r: SustainedResult): string {
  const w = r.window;
  const out = [
    `run ${r.run} (sustained): ${fmt(w.requestedChangesPerSecond)} changes/s asked for ${w.seconds} s → ` +
      `${fmt(w.sourceVersions)} versions (${fmt(w.sourceVersions / w.seconds)} versions/s)`,
    settingsLine(r.settings),
    `warm-up (initial population through every stage): ${r.warmup.outcome} in ${fmt(r.warmup.seconds, 1)} s, ${fmt(r.warmup.versions)} versions`,
    `window of ${fmt(w.seconds, 1)} s, then drain after the source paused: ${r.drain.outcome} in ${fmt(r.drain.seconds, 1)} s`,
    `outcome: ${outcomeLine(r)}`,
  ];
  const stages = table(['stage (during the window)', 'count', 'rate /s'], ['left', 'right', 'right']);
  for (const st of w.stages) stages.push([STAGE_LABELS[st.stage], fmt(st.delta), fmt(st.rate)]);
  out.push(stages.toString());
  const fresh = table(
    ['freshness: source updated_at → written', 'rows', 'p50 ms', 'p99 ms', 'max ms'],
    ['left', 'right', 'right', 'right', 'right'],
  );
  for (const f of r.freshness)
    fresh.push([
      `gold in ${f.store === 'postgres' ? 'Postgres' : 'MongoDB'}`,
      fmt(f.samples),
      fmt(f.p50),
      fmt(f.p99),
      fmt(f.max),
    ]);
  out.push(fresh.toString(), `(poll interval ${r.pollIntervalMs} ms)`);
  const lag = table(
    ['consumer group (messages behind)', 'max lag', 'last lag', 'growth over the last 25 %', 'bounded'],
    ['left', 'right', 'right', 'right', 'left'],
  );
  for (const l of r.lag)
    lag.push([l.group, fmt(l.max), fmt(l.last), fmt(l.growth), l.bounded ? 'yes' : 'NO']);
  out.push(lag.toString(), ...footer(r));
  return out.join('\n');
}
