import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Admin, Kafka } from 'kafkajs';
import type { Collection, Document, MongoClient } from 'mongodb';
import type pg from 'pg';
import { ROLES } from '../../cli/role-list.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import type { Sample } from './analysis.ts';
import type { BenchArgs } from './args.ts';
import { profileReport, startCpuProfile } from './profile.ts';
import type { RolesInProcess } from './roles.ts';
import type { SourceAdmin } from './source.ts';
import type { StageSampler } from './stages.ts';
import type { RunNames } from './world.ts';

/** Everything a mode (backfill.ts, sustained.ts) works with, set up by bench/pipeline.ts. */
export interface RunContext {
  args: BenchArgs;
  n: RunNames;
  /** the roles' environment */
  env: NodeJS.ProcessEnv;
  infra: InfraOptions;
  kafka: Kafka;
  admin: Admin;
  /** the run's database */
  pool: pg.Pool;
  mongo: MongoClient;
  gold: Collection<Document>;
  roles: RolesInProcess;
  source: SourceAdmin;
  sourceUrl: string;
  sampler: StageSampler;
  /** aborted on Ctrl-C */
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The roles after the mock source, in `npm start` order. */
export function pipelineRoles(args: BenchArgs): string[] {
  return ROLES.map((r) => r.name).filter((r) => r !== 'mock-source' && (args.gateway || r !== 'gateway'));
}

const k = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));

/** One progress line every 5 samples, on stderr. */
export function progressPrinter(ctx: RunContext): (s: Sample) => void {
  let i = 0;
  return (s) => {
    if (i++ % 5 !== 0) return;
    const c = s.counts;
    const lag = Object.entries(s.lag)
      .map(([g, l]) => `${g.slice(ctx.n.run.length + 1)} ${k(l)}`)
      .join(', ');
    ctx.log(
      `${Math.round(s.t / 1000)} s: source ${k(c.source)} | polled ${k(c.polled)} | raw ${k(c.raw)} | bronze ${k(c.bronze)} | ` +
        `joined ${k(c.joined)} | gold pg ${k(c.goldPostgres)} mongo ${k(c.goldMongo)} of ${k(s.jobs)} jobs | ` +
        `lag ${lag} | rss ${Math.round(s.rss / 2 ** 20)} MiB`,
    );
  };
}

/** Starts a CPU profile when --cpu-prof asks for one; `stop` writes it and logs its summary. */
export async function maybeProfile(ctx: RunContext): Promise<{ stop(): Promise<string | undefined> }> {
  const file = ctx.args.cpuProf;
  if (!file) return { stop: async () => undefined };
  const profiler = await startCpuProfile();
  return {
    async stop() {
      const summary = await profiler.stop(file);
      return profileReport(summary, file);
    },
  };
}

/**
 * How long the event loop the roles share was blocked (perf_hooks histogram): with every role in
 * one process, one role's synchronous work delays all the others.
 */
export function watchEventLoop(): { stop(): { p50: number; p99: number; max: number } } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop() {
      h.disable();
      const ms = (ns: number) => Math.round(ns / 1e6);
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}

export const peakRssMiB = (samples: readonly Sample[]) =>
  Math.round(Math.max(process.memoryUsage().rss, ...samples.map((s) => s.rss)) / 2 ** 20);
