import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ROLES } from '../../cli/role-list.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import type { MetricDef } from '../../contracts/metrics/index.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import type { RoleDefinition, RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';

/**
 * The pipeline's roles in this process, as `npm start` runs them (runtime/run-roles.ts): the same role
 * definitions, started in the same order, closed in reverse, each with its own logger and clients. The logs go
 * to a file (JSON lines) so that the benchmark's table stays readable; a stall prints the errors
 * found there. Unlike run-roles, no ops server and no signal handlers: the benchmark decides when
 * the roles stop.
 */
export interface RolesInProcess {
  /** starts the named roles (in ROLES order) that are not running yet */
  start(names: readonly string[]): Promise<void>;
  /** ms each role took to start */
  startMs: Record<string, number>;
  /** the metrics registries of every running role */
  metrics(): RoleMetrics[];
  /** sum of a counter or gauge over every running role (and every label value) */
  metricSum(metric: MetricDef): Promise<number>;
  /** closes the running roles in reverse order; a role that takes longer than `timeoutMs` is reported */
  close(opts?: { timeoutMs?: number; except?: readonly string[] }): Promise<string[]>;
  logFile: string;
}

export function rolesInProcess(deps: { env: NodeJS.ProcessEnv; logFile: string }): RolesInProcess {
  const infra = infraOptions(deps.env);
  const level = deps.env.TRIBUTARY_LOG_LEVEL ?? 'info';
  const destination = pino.destination({ dest: deps.logFile, sync: false, mkdir: true });
  const running: Array<{ def: RoleDefinition; role: RunningRole }> = [];
  const all = () => running.flatMap((r) => r.role.metrics ?? []);
  const startMs: Record<string, number> = {};
  return {
    logFile: deps.logFile,
    startMs,
    async start(names) {
      for (const def of ROLES) {
        if (!names.includes(def.name) || running.some((r) => r.def === def)) continue;
        const logger = pino({ name: def.name, level, base: { pid: process.pid } }, destination);
        const started = performance.now();
        const role = await startRoleFromEnv(def, { infra, env: deps.env, logger }).catch((err: Error) => {
          throw new Error(`the ${def.name} role did not start: ${err.message}`, { cause: err });
        });
        startMs[def.name] = Math.round(performance.now() - started);
        running.push({ def, role });
      }
    },
    metrics: all,
    async metricSum(def) {
      let sum = 0;
      for (const m of all()) {
        const metric = m.registry.getSingleMetric(def.name);
        if (metric) for (const v of (await metric.get()).values) sum += v.value;
      }
      return sum;
    },
    async close(opts = {}) {
      const late: string[] = [];
      for (const r of [...running].reverse()) {
        if (opts.except?.includes(r.def.name)) continue;
        running.splice(running.indexOf(r), 1);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), opts.timeoutMs ?? 60_000);
        });
        const outcome = await Promise.race([
          r.role.close().then(
            () => 'closed' as const,
            (err: Error) => `failed: ${err.message}`,
          ),
          timedOut,
        ]);
        clearTimeout(timer);
        if (outcome !== 'closed')
          late.push(`${r.def.name} ${outcome === 'late' ? 'did not close in time' : outcome}`);
      }
      if (running.length === 0) destination.flushSync();
      return late;
    },
  };
}

/**
 * The warnings and errors of the log file, most frequent first: what a stall report shows (e.g. the
 * pollers' "walk failed" and the broker's reason).
 */
export function logProblems(file: string, limit = 5): Array<{ role: string; msg: string; count: number }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // no log written (yet): nothing to show
  }
  const counts = new Map<string, { role: string; msg: string; count: number }>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { level?: number; name?: string; msg?: string; err?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // a line cut by a flush in progress
    }
    if ((entry.level ?? 0) < 40) continue;
    const err = typeof entry.err === 'string' ? entry.err : (entry.err as { message?: string })?.message;
    const msg = err ? `${entry.msg}: ${err}` : String(entry.msg);
    const key = `${entry.name}\u0000${msg}`;
    const have = counts.get(key);
    if (have) have.count++;
    else counts.set(key, { role: entry.name ?? '?', msg, count: 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, limit);
}
