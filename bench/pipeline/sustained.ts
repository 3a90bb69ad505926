import { pollersOptions } from '../../producers/options.ts';
import { lagVerdict, type Sample, STAGES } from './analysis.ts';
import { settingsOf } from './backfill.ts';
import {
  maybeProfile,
  peakRssMiB,
  pipelineRoles,
  progressPrinter,
  type RunContext,
  watchEventLoop,
} from './context.ts';
import { createFreshnessTracker } from './freshness.ts';
import type { SustainedResult } from './report.ts';
import { logProblems } from './roles.ts';
import { type RunOutcome, sampleUntil, startWhileSampling } from './stages.ts';

/**
 * Sustained: the source starts paused with its initial population, which the pipeline first takes
 * in completely (warm-up); then the simulator runs at the asked rate for the window, while every
 * second the benchmark samples the stages, each group's lag, the RSS and the gold rows written
 * (freshness); then the source pauses and the pipeline drains.
 */
export async function runSustained(ctx: RunContext): Promise<SustainedResult> {
  const { args, roles, log, sampler } = ctx;
  await roles.start(['mock-source']);
  const initial = await ctx.source.stats();
  const loop = watchEventLoop();
  const t0 = Date.now();
  const samples: Sample[] = [];
  const printProgress = progressPrinter(ctx);
  const common = {
    sampler,
    samples,
    t0,
    stallMs: args.stallSeconds * 1000,
    timeoutMs: args.timeoutSeconds * 1000,
    signal: ctx.signal,
  };

  log(`warm-up: ${initial.versions} initial versions through the pipeline…`);
  const { outcome: warmup, rolesStartMs } = await startWhileSampling(() => roles.start(pipelineRoles(args)), {
    ...common,
    onSample: printProgress,
  });
  const warmupSeconds = (samples.at(-1)?.t ?? 0) / 1000;

  let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  const freshness = createFreshnessTracker({ pool: ctx.pool, gold: ctx.gold, window: () => window });
  let outcome: RunOutcome = warmup;
  let windowSamples: Sample[] = [];
  let drain: SustainedResult['drain'] = { outcome: 'timeout', seconds: 0 };
  let windowVersions = 0;
  let windowMs = 0;
  const profile = await maybeProfile(ctx);
  if (warmup.kind === 'complete') {
    const before = await ctx.source.stats();
    log(`window: ${args.rate} changes/s for ${args.seconds} s…`);
    window = { from: Date.now(), to: Number.POSITIVE_INFINITY };
    freshness.start();
    await ctx.source.resume();
    const first = samples.length;
    outcome = await sampleUntil({
      ...common,
      forMs: args.seconds * 1000,
      onSample: printProgress,
    });
    await ctx.source.pause();
    window.to = Date.now();
    windowMs = window.to - window.from;
    windowVersions = (await ctx.source.stats()).versions - before.versions;
    windowSamples = samples.slice(first);
    if (outcome.kind === 'complete') {
      log('source paused; draining…');
      const drainFrom = samples.at(-1)?.t ?? 0;
      const drained = await sampleUntil({
        ...common,
        timeoutMs: args.drainSeconds * 1000,
        onSample: printProgress,
      });
      drain = { outcome: drained.kind, seconds: ((samples.at(-1)?.t ?? 0) - drainFrom) / 1000 };
      if (drained.kind !== 'complete') outcome = drained;
    }
  }
  await freshness.stop();
  for (const e of freshness.errors()) log(`a freshness read failed: ${e}`);
  const profileText = await profile.stop();
  const peak = peakRssMiB(samples);
  const eventLoopDelayMs = loop.stop();
  const lateClosing = await roles.close();
  if (profileText) log(`\n${profileText}`);

  const sourceRate = windowMs > 0 ? (windowVersions * 1000) / windowMs : 0;
  const firstW = windowSamples[0];
  const lastW = windowSamples.at(-1);
  return {
    mode: 'sustained',
    run: ctx.n.run,
    settings: { ...settingsOf(ctx), TICK_MS: args.tickMs, workspaces: args.workspaces },
    outcome: { ...outcome, atSeconds: (samples.at(-1)?.t ?? 0) / 1000 },
    stallSeconds: args.stallSeconds,
    problems: logProblems(roles.logFile),
    warmup: { outcome: warmup.kind, seconds: warmupSeconds, versions: initial.versions },
    window: {
      seconds: windowMs / 1000,
      requestedChangesPerSecond: args.rate,
      sourceVersions: windowVersions,
      stages:
        firstW && lastW && lastW.t > firstW.t
          ? STAGES.map((stage) => {
              const delta = lastW.counts[stage] - firstW.counts[stage];
              return { stage, delta, rate: (delta * 1000) / (lastW.t - firstW.t) };
            })
          : [],
    },
    freshness: freshness.summary(),
    pollIntervalMs: pollersOptions(ctx.env).intervalMs,
    lag: [
      // the pollers are no consumer group, but they too can fall behind: source versions not polled yet
      lagVerdict(
        'pollers (source - polled)',
        windowSamples.map((s) => ({ t: s.t, lag: Math.max(0, s.counts.source - s.counts.polled) })),
        sourceRate,
      ),
      ...sampler.groups.map((g) =>
        lagVerdict(
          g,
          windowSamples.map((s) => ({ t: s.t, lag: s.lag[g] ?? 0 })),
          sourceRate,
        ),
      ),
    ],
    drain,
    peakRssMiB: peak,
    eventLoopDelayMs,
    rolesStartMs,
    roleStartMs: roles.startMs,
    logFile: roles.logFile,
    lateClosing,
  };
}
