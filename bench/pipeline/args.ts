import { parseArgs } from 'node:util';

/** The command line of bench/pipeline.ts, validated: a wrong flag names itself and the fix. */
export interface BenchArgs {
  mode: 'backfill' | 'sustained';
  /** backfill: source versions (workspaces + jobs) to seed before the pipeline starts */
  versions: number;
  workspaces: number;
  /** backfill: workspaces created at start, all with one updated_at (the rest come from ticks) */
  initialWorkspaces: number;
  /** sustained: simulator changes attempted per second, over `seconds` */
  rate: number;
  seconds: number;
  tickMs: number;
  drainSeconds: number;
  stallSeconds: number;
  timeoutSeconds: number;
  ceilings: boolean;
  gateway: boolean;
  json: boolean;
  keep: boolean;
  /** processes running the pipeline roles: this one plus instances - 1 children (bench/pipeline/instances.ts) */
  instances: number;
  cpuProf?: string;
  /** only remove what an earlier run (interrupted, or --keep) left behind */
  cleanUp?: string;
}

export const USAGE = `usage: npm run bench:pipeline -- [flags]

  --mode backfill|sustained  (default backfill)
  --versions N               backfill: source versions to seed, workspaces + jobs (default 200000)
  --workspaces W             workspaces in the source (default: versions / 10 in backfill, 2000 sustained)
  --shared-fraction F        backfill: about F of the versions share one updated_at: the initial
                             population (each initial workspace brings ~2 versions, so F is at most
                             ~2 x W / N; default: every workspace at start, the most the source allows)
  --rate R                   sustained: simulator changes per second (default 1000)
  --seconds S                sustained: how long the source changes at that rate (default 60)
  --tick-ms T                sustained: the simulator period; R x T / 1000 changes per tick (default 100)
  --drain-seconds N          sustained: how long to wait for the pipeline to drain after the window
                             (default 300; the window's figures are reported either way)
  --stall-seconds N          end the run "stalled at <stage>" when nothing moved for N s (default 30)
  --timeout-seconds N        give up after N s of pipeline time (default 1800)
  --no-ceilings              backfill: skip the bare ceilings measured after the pipeline
  --no-gateway               leave the gateway role out (it is in by default, as in npm start)
  --instances N              run the pipeline roles (pollers, bronze, processor, gold-postgres, gold-mongo)
                             in N processes: this one plus N - 1 children started with
                             \`tributary start --no-infra --role …\` (default 1, at most 4)
  --cpu-prof FILE            write a CPU profile of the pipeline phase to FILE (.cpuprofile) and
                             print its top costs
  --keep                     keep the run's topics, database and collections (for a look afterwards)
  --clean-up RUN             only remove what run RUN (e.g. bench-1a2b3c4d) left behind, and exit
  --json                     print the result as JSON on stdout (progress goes to stderr)
  --help

Every TRIBUTARY_* variable of the environment applies to the roles (e.g. TRIBUTARY_POLL_PAGE_SIZE=500),
except the names this benchmark makes unique per run (topics, groups, transactional ids, database,
collection, ports).`;

export class UsageError extends Error {}

function int(flag: string, raw: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag} is ${JSON.stringify(raw)}: use an integer from ${min} to ${max}`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      mode: { type: 'string' },
      versions: { type: 'string' },
      workspaces: { type: 'string' },
      'shared-fraction': { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      'tick-ms': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'stall-seconds': { type: 'string' },
      'timeout-seconds': { type: 'string' },
      'no-ceilings': { type: 'boolean', default: false },
      'no-gateway': { type: 'boolean', default: false },
      instances: { type: 'string' },
      'cpu-prof': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'clean-up': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) return 'help';
  if (v['clean-up'] !== undefined && !/^bench-[0-9a-f]{8}$/.test(v['clean-up']))
    throw new UsageError(
      `--clean-up is ${JSON.stringify(v['clean-up'])}: use the run id it printed, e.g. bench-1a2b3c4d`,
    );
  const mode = v.mode ?? 'backfill';
  if (mode !== 'backfill' && mode !== 'sustained')
    throw new UsageError(`--mode is ${JSON.stringify(mode)}: use backfill or sustained`);
  const versions = int('versions', v.versions, 200_000, 1);
  // the mock source's limits (mock-source/options.ts): 100 000 workspaces, 1 000 changes a tick
  const defaultWorkspaces =
    mode === 'backfill' ? Math.max(1, Math.min(100_000, Math.round(versions / 10))) : 2000;
  const workspaces = int('workspaces', v.workspaces, defaultWorkspaces, 1, 100_000);
  let initialWorkspaces = workspaces;
  if (v['shared-fraction'] !== undefined) {
    const f = Number(v['shared-fraction']);
    if (!(f >= 0 && f <= 1))
      throw new UsageError(`--shared-fraction is ${JSON.stringify(v['shared-fraction'])}: use 0 to 1`);
    initialWorkspaces = Math.round((f * versions) / 2);
    if (initialWorkspaces > workspaces) {
      throw new UsageError(
        `--shared-fraction ${f} needs ~${initialWorkspaces} workspaces created at one instant (each brings ~2 versions), ` +
          `more than --workspaces ${workspaces}: raise --workspaces to ${initialWorkspaces} or lower ` +
          `--shared-fraction to ${((2 * workspaces) / versions).toFixed(2)}`,
      );
    }
  }
  if (mode === 'backfill' && 2 * initialWorkspaces > versions) {
    throw new UsageError(
      `--workspaces ${workspaces} created at start bring ~${2 * initialWorkspaces} versions, more than --versions ${versions}: ` +
        `lower --workspaces to ${Math.floor(versions / 2)} or less, or set --shared-fraction`,
    );
  }
  const rate = int('rate', v.rate, 1000, 1);
  const tickMs = int('tick-ms', v['tick-ms'], 100, 10, 60_000);
  if ((rate * tickMs) / 1000 > 1000) {
    throw new UsageError(
      `--rate ${rate} at --tick-ms ${tickMs} is ${(rate * tickMs) / 1000} changes a tick, more than the mock ` +
        `source's 1000: lower --tick-ms to ${Math.floor(1_000_000 / rate)} or less`,
    );
  }
  if ((rate * tickMs) / 1000 < 1)
    throw new UsageError(`--rate ${rate} at --tick-ms ${tickMs} is under one change a tick: raise --tick-ms`);
  return {
    mode,
    versions,
    workspaces,
    initialWorkspaces,
    rate,
    seconds: int('seconds', v.seconds, 60, 1),
    tickMs,
    drainSeconds: int('drain-seconds', v['drain-seconds'], 300, 1),
    stallSeconds: int('stall-seconds', v['stall-seconds'], 30, 2),
    timeoutSeconds: int('timeout-seconds', v['timeout-seconds'], 1800, 10),
    ceilings: !v['no-ceilings'],
    gateway: !v['no-gateway'],
    json: v.json,
    keep: v.keep,
    instances: int('instances', v.instances, 1, 1, 4),
    cpuProf: v['cpu-prof'],
    cleanUp: v['clean-up'],
  };
}
