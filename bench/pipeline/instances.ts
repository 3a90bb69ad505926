import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { METRICS, type MetricDef } from '../../contracts/metrics/index.ts';
import type { RolesInProcess } from './roles.ts';
import { freePort } from './world.ts';

/** The roles an extra instance runs: the pipeline's, not the mock source (one source) nor the gateway. */
export const EXTRA_INSTANCE_ROLES = [
  'pollers',
  'bronze',
  'processor',
  'gold-postgres',
  'gold-mongo',
] as const;

const SHARE_METRICS = [
  METRICS.pollers.published,
  METRICS.bronze.rowsWritten,
  METRICS.processor.goldRecords,
  METRICS.goldSinks.rowsWritten,
];
const REPO = path.resolve(import.meta.dirname, '../..');
/** how long a scrape of a child's /metrics serves the sampler's several metricSum calls of one sample */
const SCRAPE_REUSE_MS = 500;

export interface ExtraInstances {
  /** the sum of a metric's samples over every child (the last value scraped from a child that does not answer) */
  metricSum(metric: MetricDef): Promise<number>;
  /** SIGTERM to every child, SIGKILL to those still running after `timeoutMs`; lines for those that did not exit cleanly */
  close(timeoutMs?: number): Promise<string[]>;
  logFiles: string[];
}

/**
 * The sum of the samples of metric `name` in Prometheus text exposition (every label value; the
 * `_total` of a counter is its sample name). Comments and other metrics are skipped.
 */
export function sumPrometheusSamples(text: string, name: string): number {
  let sum = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      const end = rest.lastIndexOf('}');
      if (end < 0) continue;
      rest = rest.slice(end + 1);
    } else if (!rest.startsWith(' ')) continue; // another metric whose name starts with this one
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

interface Child {
  id: string;
  port: number;
  proc: ChildProcess;
  exited: Promise<number | string>;
  exit?: number | string;
  scraped?: { at: number; text: Promise<string | undefined> };
  /** last value per metric that answered, so that a child slow to answer does not make a count go back */
  last: Map<string, number>;
}

/**
 * Starts `count` more processes of the pipeline roles (`tributary start --no-infra --role …`),
 * each with the run's environment, its own TRIBUTARY_INSTANCE_ID (bench-<i>) and ops port, its log
 * (JSON lines) in `<logFile>.instance-<i>`. They join the run's consumer groups and the pollers'
 * ownership group like any other instance. They are started in their own process group, so a
 * Ctrl-C in the terminal reaches only the benchmark, which closes them before it cleans up; if the
 * benchmark exits without closing them, the exit handler kills them.
 */
export async function startExtraInstances(deps: {
  count: number;
  env: NodeJS.ProcessEnv;
  logFile: string;
  log: (line: string) => void;
}): Promise<ExtraInstances> {
  const children: Child[] = [];
  let closing = false;
  const killAll = () => {
    for (const c of children) if (c.exit === undefined) c.proc.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (let i = 1; i <= deps.count; i++) {
    const id = `bench-${i}`;
    const port = await freePort();
    const logFile = `${deps.logFile}.instance-${i}`;
    const fd = openSync(logFile, 'a');
    const proc = spawn(
      process.execPath,
      [path.join(REPO, 'bin/tributary.mjs'), 'start', '--no-infra', '--role', ...EXTRA_INSTANCE_ROLES],
      {
        cwd: REPO,
        env: {
          ...deps.env,
          TRIBUTARY_INSTANCE_ID: id,
          TRIBUTARY_OPS_HOST: '127.0.0.1',
          TRIBUTARY_OPS_PORT: String(port),
        },
        stdio: ['ignore', fd, fd],
        detached: true,
      },
    );
    closeSync(fd); // the child holds its own copy
    const child: Child = { id, port, proc, last: new Map(), exited: Promise.resolve(0) };
    child.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exit = code ?? signal ?? 'unknown';
        resolve(child.exit);
      });
      proc.once('error', (err) => {
        child.exit = `spawn failed: ${err.message}`;
        resolve(child.exit);
      });
    });
    void child.exited.then((how) => {
      if (!closing) deps.log(`instance ${id} exited early (${how}); its log: ${logFile}`);
    });
    children.push(child);
    deps.log(`instance ${id}: pid ${proc.pid}, metrics at http://127.0.0.1:${port}/metrics, log ${logFile}`);
  }

  const scrape = (c: Child): Promise<string | undefined> => {
    const now = Date.now();
    if (c.scraped && now - c.scraped.at < SCRAPE_REUSE_MS) return c.scraped.text;
    const text = fetch(`http://127.0.0.1:${c.port}/metrics`, { signal: AbortSignal.timeout(5000) })
      .then((r) => (r.ok ? r.text() : undefined))
      .catch(() => undefined); // not listening yet (starting) or busy: the last values stand in
    c.scraped = { at: now, text };
    return text;
  };

  return {
    logFiles: children.map((_, i) => `${deps.logFile}.instance-${i + 1}`),
    async metricSum({ name }) {
      const values = await Promise.all(
        children.map(async (c) => {
          const text = c.exit === undefined ? await scrape(c) : undefined;
          if (text !== undefined) c.last.set(name, sumPrometheusSamples(text, name));
          return c.last.get(name) ?? 0;
        }),
      );
      return values.reduce((a, b) => a + b, 0);
    },
    async close(timeoutMs = 60_000) {
      closing = true;
      const late: string[] = [];
      await Promise.all(
        children.map(async (c) => {
          if (c.exit === undefined) c.proc.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<'late'>((resolve) => {
            timer = setTimeout(() => resolve('late'), timeoutMs);
          });
          const how = await Promise.race([c.exited, deadline]);
          clearTimeout(timer);
          if (how === 'late') {
            c.proc.kill('SIGKILL');
            await c.exited;
            late.push(`instance ${c.id} did not exit within ${timeoutMs} ms of SIGTERM: killed`);
          } else if (how !== 0) late.push(`instance ${c.id} exited with ${how}`);
        }),
      );
      process.off('exit', killAll);
      return late;
    },
  };
}

/**
 * `roles` plus `extra` child processes of the pipeline roles: they start once the in-process
 * pipeline roles have started (the first `start` that includes the processor), their counters are
 * added to `metricSum`, and the first `close` closes them before the in-process roles.
 */
export function withExtraInstances(
  roles: RolesInProcess,
  opts: { extra: number; env: NodeJS.ProcessEnv; log: (line: string) => void },
): RolesInProcess & { instanceLogFiles(): string[] } {
  let extras: ExtraInstances | undefined;
  let logFiles: string[] = [];
  let closed = false;
  return {
    ...roles,
    startMs: roles.startMs,
    logFile: roles.logFile,
    metrics: () => roles.metrics(),
    instanceLogFiles: () => logFiles,
    async start(names) {
      await roles.start(names);
      if (extras || closed || !names.includes('processor')) return;
      extras = await startExtraInstances({
        count: opts.extra,
        env: opts.env,
        logFile: roles.logFile,
        log: opts.log,
      });
      logFiles = extras.logFiles;
    },
    async metricSum(metric) {
      const [own, theirs] = await Promise.all([roles.metricSum(metric), extras?.metricSum(metric) ?? 0]);
      return own + theirs;
    },
    async close(o) {
      closed = true;
      if (extras) {
        // how the work split, for docs/performance.md "One vs two instances per role"
        const shares: string[] = [];
        for (const metric of SHARE_METRICS) {
          const [own, theirs] = await Promise.all([roles.metricSum(metric), extras.metricSum(metric)]);
          shares.push(
            `${metric.name.replace(/^tributary_|_total$/g, '')} ${own} here, ${theirs} in the children`,
          );
        }
        opts.log(`work split: ${shares.join('; ')}`);
      }
      const late = extras ? await extras.close() : [];
      extras = undefined;
      return [...late, ...(await roles.close(o))];
    },
  };
}
