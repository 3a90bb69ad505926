import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadOnlyPool, readOnly } from '../../gateway/analytics/db.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { JobsPage } from '../../gateway/schemas.ts';
import {
  createGoldCopy,
  fixturePool,
  type GoldRow,
  insertGoldRows,
  startTestGateway,
} from '../../gateway/testing.ts';
import { testInfra } from '../support/infra.ts';

const infra = testInfra();
const W1 = randomUUID(); // pro / smb / US
const W2 = randomUUID(); // free / enterprise / FR
const W3 = randomUUID(); // not resolved yet
const MIN = 60_000;
const now = Date.now();
const finished = (minutesAgo: number, durationMs: number) => ({
  createdAt: new Date(now - minutesAgo * MIN - durationMs),
  finishedAt: new Date(now - minutesAgo * MIN),
});
const w1 = { workspaceId: W1, plan: 'pro', segment: 'smb', country: 'US' } as const;
const w2 = { workspaceId: W2, plan: 'free', segment: 'enterprise', country: 'FR' } as const;
const w3 = { workspaceId: W3, plan: null, segment: null, country: null } as const;
// four jobs share a created_at (with microseconds) so that pagination must break ties on job_id
const TIE = new Date(now - 50 * MIN).toISOString().replace('Z', '123Z');

const ROWS: GoldRow[] = [
  { ...w1, status: 'completed', requested: 100, enriched: 90, ...finished(2, 1000) },
  { ...w1, status: 'completed', requested: 100, enriched: 100, ...finished(2, 2000) },
  { ...w2, status: 'completed', requested: 50, enriched: 40, ...finished(2, 3000) },
  { ...w2, status: 'completed', requested: 10, enriched: 10, ...finished(4, 4000) },
  { ...w3, status: 'completed', requested: 40, enriched: 30, ...finished(4, 5000) },
  { ...w1, status: 'failed', requested: 100, enriched: 20, ...finished(2, 6000) },
  { ...w2, status: 'failed', requested: 100, enriched: 0, ...finished(30, 7000) },
  { ...w1, status: 'canceled', requested: 30, enriched: 5, ...finished(2, 8000) },
  { ...w1, status: 'queued', requested: 10, enriched: 0, createdAt: TIE },
  { ...w3, status: 'queued', requested: 20, enriched: 0, createdAt: TIE },
  { ...w2, status: 'processing', requested: 60, enriched: 30, createdAt: TIE },
  { ...w1, status: 'processing', requested: 5, enriched: 1, createdAt: TIE },
];

describe('gateway analytics API', () => {
  let pool: pg.Pool;
  let gold: { table: string; drop(): Promise<void> };
  let gateway: Gateway;
  let ids: string[];
  const get = async (path: string) => {
    const res = await fetch(`${gateway.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    pool = fixturePool(infra);
    gold = await createGoldCopy(pool);
    ids = await insertGoldRows(pool, gold.table, ROWS);
    gateway = await startTestGateway(infra, {
      TRIBUTARY_GOLD_TABLE: gold.table,
      TRIBUTARY_GATEWAY_LAG_GROUPS: 'none-watched',
      TRIBUTARY_GATEWAY_DASHBOARD_DIR: path.join(os.tmpdir(), `no-dashboard-${randomUUID()}`),
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await gold?.drop();
    await pool?.end();
  });

  it('counts jobs by status', async () => {
    expect(await get('/api/stats/status')).toEqual({
      status: 200,
      body: { queued: 2, processing: 2, completed: 5, failed: 2, canceled: 1, total: 12 },
    });
  });

  it('computes job and record success rates', async () => {
    const { body } = await get('/api/stats/success-rate');
    expect(body).toEqual({
      completed: 5,
      failed: 2,
      canceled: 1,
      jobSuccessRate: 5 / 7,
      recordSuccessRate: 290 / 500,
    });
  });

  it('computes p50 and p95 durations, optionally by status', async () => {
    // 1000..8000 ms: percentile_cont interpolates, p95 at rank 0.95 * 7 = 6.65
    expect((await get('/api/stats/durations')).body).toEqual({ count: 8, p50Ms: 4500, p95Ms: 7650 });
    expect((await get('/api/stats/durations?status=completed')).body).toEqual({
      count: 5,
      p50Ms: 3000,
      p95Ms: 4800,
    });
  });

  it('computes finished jobs per minute over a window', async () => {
    const { body } = await get('/api/stats/throughput?minutes=10');
    expect(body).toMatchObject({ windowMinutes: 10, finished: 7, perMinute: 0.7 });
    const series = body.series as Array<{ finished: number }>;
    expect(series).toHaveLength(10);
    expect(series.reduce((sum, b) => sum + b.finished, 0)).toBe(7);
  });

  it('breaks jobs down by plan, segment and country', async () => {
    const plan = await get('/api/stats/breakdown/plan');
    expect(plan.body).toEqual({
      dimension: 'plan',
      rows: [
        {
          key: 'pro',
          jobs: 6,
          completed: 2,
          failed: 1,
          canceled: 1,
          jobSuccessRate: 2 / 3,
          recordSuccessRate: 0.7,
        },
        {
          key: 'free',
          jobs: 4,
          completed: 2,
          failed: 1,
          canceled: 0,
          jobSuccessRate: 2 / 3,
          recordSuccessRate: 0.3125,
        },
        {
          key: null,
          jobs: 2,
          completed: 1,
          failed: 0,
          canceled: 0,
          jobSuccessRate: 1,
          recordSuccessRate: 0.75,
        },
      ],
    });
    const segment = await get('/api/stats/breakdown/segment?limit=2');
    expect((segment.body.rows as Array<{ key: string }>).map((r) => r.key)).toEqual(['smb', 'enterprise']);
    const country = await get('/api/stats/breakdown/country');
    expect((country.body.rows as Array<{ key: string; jobs: number }>).map((r) => [r.key, r.jobs])).toEqual([
      ['US', 6],
      ['FR', 4],
      [null, 2],
    ]);
  });

  it('summarises one workspace, and lists them busiest first', async () => {
    const { body } = await get(`/api/workspaces/${W1}`);
    expect(body).toMatchObject({
      workspaceId: W1,
      plan: 'pro',
      segment: 'smb',
      country: 'US',
      jobs: 6,
      statusCounts: { queued: 1, processing: 1, completed: 2, failed: 1, canceled: 1, total: 6 },
      jobSuccessRate: 2 / 3,
      recordSuccessRate: 0.7,
      p50Ms: 4000, // 1000, 2000, 6000, 8000
      p95Ms: 7700,
    });
    expect((await get(`/api/workspaces/${randomUUID()}`)).status).toBe(404);
    const list = await get('/api/workspaces?limit=10');
    expect(
      (list.body.workspaces as Array<{ workspaceId: string; jobs: number }>).map((w) => [
        w.workspaceId,
        w.jobs,
      ]),
    ).toEqual([
      [W1, 6],
      [W2, 4],
      [W3, 2],
    ]);
  });

  it('pages through recent jobs without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/jobs?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = res.body as unknown as JobsPage;
      seen.push(...page.jobs.map((j) => j.jobId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    const { rows } = await pool.query<{ job_id: string }>(
      `SELECT job_id FROM ${gold.table} ORDER BY created_at DESC, job_id ASC`,
    );
    expect(seen).toEqual(rows.map((r) => r.job_id));
    expect(new Set(seen).size).toBe(ids.length);
  });

  it('filters recent jobs by status, plan and workspace', async () => {
    const count = async (q: string) =>
      ((await get(`/api/jobs?${q}`)).body as unknown as JobsPage).jobs.length;
    expect(await count('status=completed')).toBe(5);
    expect(await count('plan=pro')).toBe(6);
    expect(await count(`workspace=${W2}`)).toBe(4);
    expect(await count('status=completed&plan=free')).toBe(2);
    const first = ((await get('/api/jobs?limit=1')).body as unknown as JobsPage).jobs[0]!;
    expect(first).toMatchObject({
      status: 'completed',
      plan: 'pro',
      requestedCount: 100,
      enrichedCount: 90,
      durationMs: 1000,
    });
  });

  it('serves every KPI of the dashboard in one overview', async () => {
    const { body } = await get('/api/overview?minutes=10');
    expect(body).toMatchObject({
      statusCounts: { total: 12 },
      successRate: { jobSuccessRate: 5 / 7 },
      durations: { p50Ms: 4500, p95Ms: 7650 },
      throughput: { finished: 7, windowMinutes: 10 },
    });
    expect((body.byPlan as Array<{ key: string | null }>).map((r) => r.key)).toEqual(['pro', 'free', null]);
  });

  it.each([
    '/api/jobs?limit=0',
    '/api/jobs?limit=abc',
    '/api/jobs?status=done',
    '/api/jobs?plan=gold',
    '/api/jobs?workspace=not-a-uuid',
    '/api/jobs?cursor=not-a-cursor',
    '/api/stats/breakdown/colour',
    '/api/stats/throughput?minutes=0',
    '/api/stats/durations?status=late',
    '/api/workspaces/42',
  ])('answers 400 with a JSON message to %s', async (path) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
  });

  it('serves OpenAPI docs, probes and Prometheus metrics', async () => {
    const docs = await fetch(`${gateway.url}/docs`);
    expect([docs.status, docs.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const spec = await get('/docs/json');
    expect(Object.keys(spec.body.paths as object)).toContain('/api/jobs');
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
    expect(await get('/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', roles: { gateway: { stalled: false } } },
    });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('tributary_gateway_live_ticks_total');
    expect(metrics).toContain('# TYPE kafka_consumergroup_lag gauge');
  });

  it('lists the alert rules, the defaults when no rules file is given', async () => {
    const spec = await get('/docs/json');
    expect(Object.keys(spec.body.paths as object)).toContain('/api/alerts');
    const { status, body } = await get('/api/alerts');
    expect(status).toBe(200);
    expect(body).toMatchObject({ source: 'defaults', webhooks: [] });
    expect((body.rules as Array<{ kind: string }>).map((r) => r.kind)).toEqual([
      'consumer-lag',
      'poller-failing',
      'dead-letters',
      'freshness',
      'role-not-ready',
      'walk-unreconciled',
    ]);
  });

  it('says how to build the dashboard when it is not built', async () => {
    const res = await fetch(`${gateway.url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npx vite build --config dashboard/vite.config.ts');
  });

  it('reads through sessions that cannot write', async () => {
    const readOnlyPool = createReadOnlyPool(infra.postgres.url, { max: 1 });
    try {
      await expect(readOnly(readOnlyPool, (c) => c.query(`DELETE FROM ${gold.table}`))).rejects.toThrow(
        /read-only transaction/,
      );
      await expect(readOnlyPool.query(`DELETE FROM ${gold.table}`)).rejects.toThrow(/read-only transaction/);
    } finally {
      await readOnlyPool.end();
    }
    expect((await get('/api/stats/status')).body.total).toBe(12);
  });
});
