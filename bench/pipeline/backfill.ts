import { readRanges, wholeTopics } from '../../common/topic-reader.ts';
import { bronzeOptions } from '../../consumers/bronze/options.ts';
import { goldSinksOptions } from '../../consumers/gold-sinks/options.ts';
import { pollersOptions } from '../../producers/options.ts';
import { type Sample, STAGES, summarizeStage } from './analysis.ts';
import {
  bareConsume,
  bareProduce,
  type Ceiling,
  copyCeiling,
  mongoInsertCeiling,
  sourceWalk,
} from './ceilings.ts';
import {
  maybeProfile,
  peakRssMiB,
  pipelineRoles,
  progressPrinter,
  type RunContext,
  watchEventLoop,
} from './context.ts';
import { againstCeilings, type BackfillResult } from './report.ts';
import { logProblems } from './roles.ts';
import { seed } from './source.ts';
import { startWhileSampling } from './stages.ts';

/**
 * Backfill: the source is filled first (the mock source role, paused, then ticked through its admin
 * API), then every other role starts and the run lasts until gold in Postgres, MongoDB and the gold
 * topic hold every job and every group has consumed everything; or until a stage stalls or the
 * timeout. Then, on the data the run produced, each stage's bare ceiling.
 */
export async function runBackfill(ctx: RunContext): Promise<BackfillResult> {
  const { args, roles, log } = ctx;
  const started = performance.now();
  await roles.start(['mock-source']);
  const initialMs = performance.now() - started;
  log(
    `mock source up with its initial population in ${Math.round(initialMs)} ms; seeding ${args.versions} versions…`,
  );
  const seeded = await seed(ctx.source, args.versions);
  log(
    `seeded ${seeded.versions} versions (${seeded.jobs} jobs) with ${seeded.ticks} ticks in ${Math.round(seeded.tickMs)} ms`,
  );

  const profile = await maybeProfile(ctx);
  const t0 = Date.now();
  const loop = watchEventLoop();
  const samples: Sample[] = [];
  log('starting the pipeline roles; sampling every second');
  const { outcome, rolesStartMs } = await startWhileSampling(() => roles.start(pipelineRoles(args)), {
    sampler: ctx.sampler,
    samples,
    t0,
    stallMs: args.stallSeconds * 1000,
    timeoutMs: args.timeoutSeconds * 1000,
    signal: ctx.signal,
    onSample: progressPrinter(ctx),
  });
  const atMs = samples.at(-1)?.t ?? 0;
  const profileText = await profile.stop();
  log(`pipeline ${outcome.kind} at ${(atMs / 1000).toFixed(1)} s; stopping the roles`);
  const peak = peakRssMiB(samples);
  const eventLoopDelayMs = loop.stop();
  const lateClosing = await roles.close({ except: ['mock-source'] });

  const ceilings: Ceiling[] = [];
  if (args.ceilings) {
    log('bare ceilings on the same data…');
    await measureCeilings(ctx, ceilings);
  }
  lateClosing.push(...(await roles.close()));
  const goldTopicJobs = await distinctGoldKeys(ctx).catch((err: Error) => {
    log(`reading the gold topic failed: ${err.message}`);
    return undefined;
  });
  if (profileText) log(`\n${profileText}`);
  const complete = outcome.kind === 'complete';
  const rate = complete ? (seeded.versions * 1000) / atMs : null;
  const { slowestCeiling, ofSlowestCeiling, ...results } = againstCeilings(
    STAGES.map((s) => summarizeStage(samples, s)),
    ceilings,
    seeded,
    rate,
  );
  return {
    mode: 'backfill',
    run: ctx.n.run,
    settings: settingsOf(ctx),
    source: { ...seeded, initialMs },
    outcome: { ...outcome, atSeconds: atMs / 1000 },
    stallSeconds: args.stallSeconds,
    problems: logProblems(roles.logFile),
    ...results,
    endToEnd: {
      versions: seeded.versions,
      seconds: complete ? atMs / 1000 : null,
      rate,
      slowestCeiling,
      ofSlowestCeiling,
    },
    goldTopicJobs,
    peakRssMiB: peak,
    eventLoopDelayMs,
    rolesStartMs,
    roleStartMs: roles.startMs,
    logFile: roles.logFile,
    lateClosing,
  };
}

/** Runs each ceiling in turn; one that fails is reported and left out, the others still run. */
async function measureCeilings(ctx: RunContext, out: Ceiling[]): Promise<void> {
  const { n, kafka, admin, pool, log } = ctx;
  const attempt = async (what: string, fn: () => Promise<Ceiling>) => {
    try {
      const c = await fn();
      out.push(c);
      log(`  ${c.label}: ${c.count} ${c.unit} in ${Math.round(c.ms)} ms`);
    } catch (err) {
      log(`  ${what} failed: ${(err as Error).message}`);
    }
  };
  await attempt('source walk', () => sourceWalk(ctx.sourceUrl));
  let messages: Awaited<ReturnType<typeof bareConsume>>['messages'] = [];
  await attempt('bare consume', async () => {
    const r = await bareConsume({
      kafka,
      admin,
      topics: [n.topics.rawWorkspaces, n.topics.rawJobs],
      groupId: n.benchGroup('ceiling-consume'),
      maxBytesPerPartition: bronzeOptions(ctx.env).maxBytesPerPartition,
    });
    messages = r.messages;
    return r.ceiling;
  });
  await attempt('bare produce', () =>
    bareProduce({
      kafka,
      admin,
      topic: `ceiling.raw.${n.run}`,
      partitions: ctx.infra.topicPartitions,
      messages,
    }),
  );
  messages = [];
  await attempt('bronze COPY', () =>
    copyCeiling(pool, 'copyBronze', ['bronze.workspaces', 'bronze.enrichment_jobs']),
  );
  await attempt('gold COPY', () => copyCeiling(pool, 'copyGold', ['gold.enrichment_jobs']));
  await attempt('MongoDB insertMany', () =>
    mongoInsertCeiling(
      ctx.mongo.db(n.mongoDatabase),
      n.collection,
      n.scratchCollection,
      goldSinksOptions(ctx.env).batchSize,
    ),
  );
}

/** How many distinct jobs the gold topic holds (read_committed, the whole topic). */
async function distinctGoldKeys(ctx: RunContext): Promise<number> {
  const keys = new Set<string>();
  await readRanges(
    { kafka: ctx.kafka, admin: ctx.admin },
    await wholeTopics(ctx.admin, [ctx.n.topics.gold]),
    ({ message }) => {
      if (message.key) keys.add(message.key.toString());
      return undefined;
    },
    { timeoutMs: 300_000 },
  );
  return keys.size;
}

/** The settings that shape the run, as the roles read them (defaults when unset). */
export function settingsOf(ctx: RunContext): Record<string, string | number> {
  const pollers = pollersOptions(ctx.env);
  return {
    partitions: ctx.infra.topicPartitions,
    POLL_PAGE_SIZE: pollers.pageSize,
    POLL_INTERVAL_MS: pollers.intervalMs,
    BRONZE_BATCH_SIZE: bronzeOptions(ctx.env).batchSize,
    GOLD_BATCH_SIZE: goldSinksOptions(ctx.env).batchSize,
    LOG_LEVEL: ctx.env.TRIBUTARY_LOG_LEVEL ?? 'info',
    gateway: ctx.args.gateway ? 'on' : 'off',
    instances: ctx.args.instances,
  };
}
