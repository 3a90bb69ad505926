/**
 * The mock source with a large world: `node --expose-gc --import tsx bench/mock-source-feed.ts [--versions N]
 *   [--workspaces W] [--page-size P] [--samples S] [--rate R] [--seconds T]`
 *   (defaults: 1,000,000 versions, 20,000 workspaces, pages of 500, 300 samples, 5,000 changes/s, 20 s).
 *
 * In a scratch schema of the environment's Postgres (runtime/endpoints.ts), removed at the end:
 * 1. creates a world of W initial workspaces (one bulk write), then ticks the simulator on a fake
 *    clock, 1,000 changes a tick, until the store holds N versions: the write rate when nothing waits;
 * 2. starts the mock source on that world (the load time is a restart's) and measures list pages
 *    over HTTP: a full walk of the jobs feed with next_cursor, pages at random cursor positions,
 *    tail polls (updated_since near the end, what a caught-up poller asks), and GET /{id};
 * 3. runs the simulator in real time at R changes/s (ticks of 100 ms) for T seconds while a client
 *    keeps polling the tail, and reports the rate reached, late and dropped periods, the page latencies
 *    meanwhile; and the process's RSS after each step (it must not grow with the history).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLogger } from '../common/logger.ts';
import { type CounterDef, MOCK_SOURCE_METRICS } from '../contracts/metrics/index.ts';
import { mockSourceOptions, startMockSource } from '../mock-source/index.ts';
import { qualified } from '../mock-source/pg-schema.ts';
import { openPostgresWorld } from '../mock-source/pg-world.ts';
import { createSimulator } from '../mock-source/simulator.ts';
import { infraOptions } from '../runtime/endpoints.ts';

const { values: args } = parseArgs({
  options: {
    versions: { type: 'string', default: '1000000' },
    workspaces: { type: 'string', default: '20000' },
    'page-size': { type: 'string', default: '500' },
    samples: { type: 'string', default: '300' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
  },
});
const [VERSIONS, WORKSPACES, PAGE, SAMPLES, RATE, SECONDS] = [
  args.versions,
  args.workspaces,
  args['page-size'],
  args.samples,
  args.rate,
  args.seconds,
].map(Number) as [number, number, number, number, number, number];
if (![VERSIONS, WORKSPACES, PAGE, SAMPLES, RATE, SECONDS].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('usage: bench/mock-source-feed.ts [--versions N] [--workspaces W] [--page-size P] …');
  process.exit(2);
}

const infra = infraOptions(process.env);
const schema = `bench_mock_${randomUUID().slice(0, 8)}`;
const log = (line: string) => console.log(`[bench] ${line}`);
/** heap after a full GC (run with --expose-gc) and RSS: what the process keeps, and what it holds */
const mb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return `heap ${Math.round(m.heapUsed / 2 ** 20)} MiB, RSS ${Math.round(m.rss / 2 ** 20)} MiB`;
};
const TICK_MS = 100;
const env = {
  TRIBUTARY_MOCK_SOURCE_SCHEMA: schema,
  TRIBUTARY_MOCK_SOURCE_PORT: '0',
  TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
  TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: String(WORKSPACES),
  TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: String(Math.max(WORKSPACES, 1)),
  TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '1000000',
  TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '1000',
  TRIBUTARY_MOCK_SOURCE_TICK_MS: String(TICK_MS),
  TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: '1000000',
  TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: '1000000',
};

function percentiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, p50: at(0.5).toFixed(1), p99: at(0.99).toFixed(1), max: s.at(-1)!.toFixed(1) };
}

async function fill(): Promise<void> {
  const world = await openPostgresWorld({ url: infra.postgres.url, schema });
  try {
    let clock = Date.now() - 24 * 3600 * 1000;
    const opts = mockSourceOptions(env);
    let t0 = performance.now();
    const simulator = createSimulator({ options: opts, now: () => clock, malformedRate: () => 0 });
    const initial = simulator.takeInitialBatch()!;
    const generatedMs = performance.now() - t0;
    await world.commit(initial);
    const initialVersions = initial.versions.workspace.length + initial.versions['enrichment-job'].length;
    log(
      `initial world: ${WORKSPACES} workspaces, ${initialVersions} versions in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        `(generation ${(generatedMs / 1000).toFixed(1)} s), ${mb()}`,
    );
    const cpu = await cpuMeter();
    t0 = performance.now();
    const commitMs: number[] = [];
    let written = initialVersions;
    let last = t0;
    while (written < VERSIONS) {
      clock += 1;
      const { result, batch } = simulator.tick();
      const c0 = performance.now();
      await world.commit(batch!);
      commitMs.push(performance.now() - c0);
      written += result.versions;
      if (performance.now() - last > 10_000) {
        last = performance.now();
        log(`  … ${written} versions, ${mb()}`);
      }
    }
    const s = (performance.now() - t0) / 1000;
    const c = percentiles(commitMs);
    const used = await cpu();
    const changes = commitMs.length * 1000;
    log(
      `filled to ${written} versions: ${Math.round((written - initialVersions) / s)} versions/s with 1,000 changes a tick ` +
        `(commit of a tick: p50 ${c.p50} ms, p99 ${c.p99} ms), ${mb()}; CPU per 5,000 changes: ` +
        `this process ${Math.round((used.node * 5000) / changes)} ms, Postgres ${used.postgres === undefined ? '?' : Math.round((used.postgres * 5000) / changes)} ms`,
    );
  } finally {
    await world.close();
  }
}

/**
 * CPU time used from now on by this process and by the mock source's Postgres sessions (read from
 * /proc: a local server on Linux; undefined elsewhere): what a change costs, whatever the load.
 */
async function cpuMeter(): Promise<() => Promise<{ node: number; postgres?: number }>> {
  const client = new pg.Client({ connectionString: infra.postgres.url });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'tributary-mock-source'",
  );
  await client.end();
  const backends = () => {
    try {
      return rows.reduce((ms, { pid }) => {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return ms + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
      }, 0);
    } catch {
      return undefined; // not a local Linux server: the figure is left out
    }
  };
  const node0 = process.cpuUsage();
  const pg0 = backends();
  return async () => {
    const node = process.cpuUsage(node0);
    const pg1 = backends();
    return {
      node: (node.user + node.system) / 1000,
      postgres: pg0 === undefined || pg1 === undefined ? undefined : pg1 - pg0,
    };
  };
}

async function timed(
  url: string,
): Promise<{ ms: number; body: { data: unknown[]; next_cursor: string | null } }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  return { ms, body: JSON.parse(text) };
}

async function main(): Promise<void> {
  await fill();
  const t0 = performance.now();
  const source = await startMockSource(
    mockSourceOptions({ ...env, TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: String((RATE * TICK_MS) / 1000) }),
    {
      logger: createLogger('mock-source', 'warn'),
      postgresUrl: infra.postgres.url,
    },
  );
  log(
    `restart: the mock source loaded the world and listens after ${((performance.now() - t0) / 1000).toFixed(1)} s, ${mb()}`,
  );
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 1 });
  try {
    const jobs = `${source.url}/v1/enrichment-jobs`;
    const walk: number[] = [];
    const walkCpu = process.cpuUsage();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await timed(`${jobs}?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
      walk.push(r.ms);
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    const perPage = process.cpuUsage(walkCpu);
    log(
      `full walk of the jobs feed: ${pages} pages of ${PAGE}: ${JSON.stringify(percentiles(walk))} ms; ` +
        `CPU of this process (server and client) per page ${((perPage.user + perPage.system) / 1000 / pages).toFixed(1)} ms, ${mb()}`,
    );

    const table = qualified(schema, 'enrichment_job_versions');
    const { rows: sample } = await pool.query<{ updated_at: Date; id: string }>(
      `SELECT updated_at, id FROM ${table} ORDER BY random() LIMIT $1`,
      [SAMPLES],
    );
    const randomPages: number[] = [];
    for (const { updated_at, id } of sample) {
      const c = Buffer.from(JSON.stringify({ v: 1, u: updated_at.getTime(), i: id })).toString('base64url');
      randomPages.push((await timed(`${jobs}?limit=${PAGE}&cursor=${c}`)).ms);
    }
    log(`pages at random cursors: ${JSON.stringify(percentiles(randomPages))} ms`);
    // the same pages inside Postgres alone: the query the feed runs, without HTTP and scheduling
    const executions: number[] = [];
    for (const { updated_at, id } of sample.slice(0, 50)) {
      const { rows } = await pool.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id, updated_at, body::text AS body FROM ${table}
          WHERE (updated_at, id) > ($1::timestamptz, $2::text) ORDER BY updated_at, id LIMIT $3`,
        [updated_at, id, PAGE + 1],
      );
      executions.push(rows[0]['QUERY PLAN'][0]['Execution Time']);
    }
    log(`the page query in Postgres (EXPLAIN ANALYZE): ${JSON.stringify(percentiles(executions))} ms`);

    const { rows: tailRow } = await pool.query<{ updated_at: Date }>(
      `SELECT updated_at FROM ${table} ORDER BY updated_at DESC, id DESC OFFSET $1 LIMIT 1`,
      [PAGE],
    );
    const since = tailRow[0]!.updated_at.toISOString();
    const tail: number[] = [];
    for (let i = 0; i < SAMPLES; i++)
      tail.push((await timed(`${jobs}?limit=${PAGE}&updated_since=${since}`)).ms);
    log(
      `tail polls (updated_since = ${PAGE} versions before the end): ${JSON.stringify(percentiles(tail))} ms`,
    );

    const latest: number[] = [];
    for (const { id } of sample)
      latest.push((await timed(`${jobs}/${id}`).catch(() => ({ ms: Number.NaN }))).ms);
    log(
      `GET /v1/enrichment-jobs/{id}: ${JSON.stringify(percentiles(latest.filter((x) => !Number.isNaN(x))))} ms`,
    );

    // real time: the simulator at RATE changes/s while a poller-like client follows the tail
    const before = (
      await pool.query(
        `SELECT workspace_versions + job_versions AS n, ticks FROM ${qualified(schema, 'simulator')}`,
      )
    ).rows[0];
    const lateBefore = await counter(source.url, MOCK_SOURCE_METRICS.ticksLate);
    const droppedBefore = await counter(source.url, MOCK_SOURCE_METRICS.ticksDropped);
    source.resume();
    const started = performance.now();
    const live: number[] = [];
    let high = new Date().toISOString();
    while (performance.now() - started < SECONDS * 1000) {
      let next: string | null = null;
      do {
        const r = await timed(
          next ? `${jobs}?limit=${PAGE}&cursor=${next}` : `${jobs}?limit=${PAGE}&updated_since=${high}`,
        );
        live.push(r.ms);
        const lastItem = r.body.data.at(-1) as { updated_at: string } | undefined;
        if (lastItem) high = lastItem.updated_at;
        next = r.body.next_cursor;
      } while (next);
      await new Promise((r) => setTimeout(r, 200));
    }
    await source.pause();
    const seconds = (performance.now() - started) / 1000;
    const after = (
      await pool.query(
        `SELECT workspace_versions + job_versions AS n, ticks FROM ${qualified(schema, 'simulator')}`,
      )
    ).rows[0];
    const versions = Number(after.n) - Number(before.n);
    const ticks = Number(after.ticks) - Number(before.ticks);
    log(
      `real time at ${RATE} changes/s asked (${(RATE * TICK_MS) / 1000} per ${TICK_MS} ms tick) for ${seconds.toFixed(0)} s: ` +
        `${Math.round((seconds * 1000) / TICK_MS)} periods, ${ticks} ticks written, ` +
        `${(await counter(source.url, MOCK_SOURCE_METRICS.ticksLate)) - lateBefore} periods late (caught up by the next tick), ` +
        `${(await counter(source.url, MOCK_SOURCE_METRICS.ticksDropped)) - droppedBefore} dropped; ` +
        `${Math.round(versions / seconds)} versions/s; polls meanwhile: ${JSON.stringify(percentiles(live))} ms, ${mb()}`,
    );
  } finally {
    await source.close();
    await pool.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  }
}

async function counter(url: string, { name }: CounterDef): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
