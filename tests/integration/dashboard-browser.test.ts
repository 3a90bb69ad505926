import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { waitFor } from '../../common/wait-for.ts';
import { encodeSnapshot, METRICS, type MetricSample, sample } from '../../contracts/metrics/index.ts';
import {
  formatDuration,
  formatInt,
  formatPercent,
  formatPerMinute,
  formatReplay,
} from '../../dashboard/src/lib/format.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { JobsPage, Kpis } from '../../gateway/schemas.ts';
import {
  createGoldCopy,
  fixturePool,
  type GoldRow,
  insertGoldRows,
  startTestGateway,
  testTopologyEnv,
} from '../../gateway/testing.ts';
import { launchChromium } from '../support/browser.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { createTopics, dropTopics } from '../support/kafka.ts';

const infra = testInfra();
/** ~60 jobs over three plans and segments, finished over the last hour (deterministic). */
function goldRows(): GoldRow[] {
  const workspaces = [
    {
      workspaceId: randomUUID(),
      workspaceName: 'Acme Corp',
      plan: 'enterprise',
      segment: 'enterprise',
      country: 'US',
    },
    { workspaceId: randomUUID(), workspaceName: 'Globex', plan: 'pro', segment: 'mid_market', country: 'DE' },
    { workspaceId: randomUUID(), workspaceName: 'Initech', plan: 'starter', segment: 'smb', country: 'FR' },
    { workspaceId: randomUUID(), workspaceName: 'Hooli', plan: 'free', segment: 'smb', country: 'GB' },
  ];
  const statuses = [
    'completed',
    'completed',
    'completed',
    'failed',
    'completed',
    'canceled',
    'processing',
    'queued',
  ] as const;
  const now = Date.now();
  return Array.from({ length: 60 }, (_, i) => {
    const ws = workspaces[i % workspaces.length]!;
    const status = statuses[(i * 3 + Math.floor(i / 4)) % statuses.length]!;
    const requested = 100 + ((i * 37) % 400);
    const finishedAt = new Date(now - ((i * 53) % 55) * 60_000 - 5000);
    const duration = 2000 + ((i * 7919) % 90_000);
    const terminal = status !== 'processing' && status !== 'queued';
    return {
      ...ws,
      status,
      requested,
      enriched:
        status === 'completed' ? requested - (i % 7) : status === 'failed' ? Math.floor(requested / 3) : 0,
      createdAt: new Date(terminal ? finishedAt.getTime() - duration : now - (i % 30) * 1000),
      finishedAt: terminal ? finishedAt : null,
    };
  });
}

/** Publishes one snapshot per role each second, counters growing at fixed rates. */
function startFeeder(producer: Producer, topics: { metrics: string; raw: string }) {
  const started = Date.now();
  const id = randomUUID().slice(0, 8);
  const total = (perSec: number, at: number) => Math.round((perSec * (at - started)) / 1000);
  const { pollers, bronze, processor, goldSinks } = METRICS;
  const ws = { api: 'workspaces' };
  const jobs = { api: 'enrichment-jobs' };
  const tick = () => {
    const at = Date.now();
    const snapshots: Array<{ role: string; counters: MetricSample[]; gauges: MetricSample[] }> = [
      {
        role: 'poller',
        counters: [
          sample(pollers.published, total(20, at), ws),
          sample(pollers.published, total(60, at), jobs),
          sample(pollers.requests, total(2, at), { ...ws, status: '200' }),
          sample(pollers.requests, total(4, at), { ...jobs, status: '200' }),
        ],
        gauges: [
          sample(pollers.healthy, 1, ws),
          sample(pollers.healthy, 1, jobs),
          sample(pollers.behindSeconds, 1.2, ws),
          sample(pollers.behindSeconds, 2.4, jobs),
          sample(pollers.lastSuccess, at / 1000, ws),
          sample(pollers.lastSuccess, at / 1000, jobs),
        ],
      },
      {
        role: 'bronze',
        counters: [sample(bronze.rowsWritten, total(78, at), { topic: 'raw' })],
        gauges: [],
      },
      {
        role: 'processor',
        counters: [sample(processor.goldRecords, total(55, at))],
        gauges: [sample(processor.unresolvedJobs, 3)],
      },
      {
        role: 'gold-sinks',
        counters: [
          sample(goldSinks.rowsWritten, total(55, at), { sink: 'postgres' }),
          sample(goldSinks.rowsWritten, total(52, at), { sink: 'mongo' }),
        ],
        gauges: [],
      },
    ];
    void producer
      .send({
        topic: topics.metrics,
        messages: snapshots.map((s) => ({
          key: s.role,
          value: encodeSnapshot({ ...s, instance: `${s.role}@${id}`, at }),
        })),
      })
      .then(() =>
        producer.send({ topic: topics.raw, messages: Array.from({ length: 5 }, () => ({ value: 'r' })) }),
      )
      .catch(() => {});
  };
  tick();
  const timer = setInterval(tick, 1000);
  return { stop: () => clearInterval(timer) };
}

/** Pixels of the given colour in the plot area (top 70 %, above the legend) of a canvas. */
function colourPixels(page: Page, chart: string, rgb: [number, number, number]): Promise<number> {
  return page.evaluate(
    ({ chart, rgb }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`canvas[data-chart="${chart}"]`);
      if (!canvas) return -1;
      const ctx = canvas.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, canvas.width, Math.floor(canvas.height * 0.7));
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const close =
          Math.abs(data[i]! - rgb[0]) + Math.abs(data[i + 1]! - rgb[1]) + Math.abs(data[i + 2]! - rgb[2]);
        if (close < 60 && data[i + 3]! > 200) n++;
      }
      return n;
    },
    { chart, rgb },
  );
}

describe('live dashboard in Chromium', () => {
  const kafka = createKafka(infra.kafka, uniqueName('dashboard-test'), testLogger);
  const topics = {
    metrics: uniqueName('metrics'),
    raw: uniqueName('raw'),
    dlq: uniqueName('dlq'),
    gold: uniqueName('gold'),
  };
  const group = uniqueName('bronze-like');
  let admin: Admin;
  let producer: Producer;
  let pool: pg.Pool;
  let gold: { table: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  let feeder: { stop(): void } | undefined;
  const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim() ?? '';

  beforeAll(async () => {
    await ensureDashboardBuilt();
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    await createTopics(
      admin,
      Object.values(topics).map((topic) => ({ topic, partitions: 1 })),
    );
    await producer.send({ topic: topics.raw, messages: Array.from({ length: 40 }, () => ({ value: 'r' })) });
    await producer.send({ topic: topics.dlq, messages: [{ value: 'bad' }, { value: 'worse' }] });
    await admin.setOffsets({
      groupId: group,
      topic: topics.raw,
      partitions: [{ partition: 0, offset: '25' }],
    });
    pool = fixturePool(infra);
    gold = await createGoldCopy(pool);
    await insertGoldRows(pool, gold.table, goldRows());
    // one rule that fires at once and for the whole test: the lagging group never consumes
    const rules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-alerts-')), 'alerts.yaml');
    fs.writeFileSync(
      rules,
      `rules:\n  - { name: test-lag, kind: consumer-lag, group: ${group}, above: 0, for: 0 }\n`,
    );
    env = {
      TRIBUTARY_ALERTS_FILE: rules,
      TRIBUTARY_GOLD_TABLE: gold.table,
      ...testTopologyEnv(topics),
      TRIBUTARY_GATEWAY_LAG_GROUPS: group,
    };
    gateway = await startTestGateway(infra, env);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // the gateway's Content-Security-Policy must not block any part of the dashboard
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
  });

  afterAll(async () => {
    feeder?.stop();
    await browser?.close();
    await gateway?.close();
    await gold?.drop();
    await pool?.end();
    await admin?.deleteGroups([group]).catch(() => {});
    await dropTopics(admin, Object.values(topics));
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  });

  it('shows the same KPIs as the API', async () => {
    await page.goto(gateway.url);
    await waitFor(async () => (await text('kpi-total')) !== '—', {
      timeoutMs: 60_000,
      what: 'KPIs on the page',
    });
    const api = (await (await fetch(`${gateway.url}/api/overview?minutes=60`)).json()) as Kpis;
    expect(api.statusCounts.total).toBe(60);
    expect(await text('kpi-total')).toBe(formatInt(api.statusCounts.total));
    expect(await text('kpi-success-rate')).toBe(formatPercent(api.successRate.jobSuccessRate));
    expect(await text('kpi-record-success-rate')).toBe(formatPercent(api.successRate.recordSuccessRate));
    expect(await text('kpi-p50')).toBe(formatDuration(api.durations.p50Ms));
    expect(await text('kpi-p95')).toBe(formatDuration(api.durations.p95Ms));
    expect(await text('kpi-throughput')).toBe(formatPerMinute(api.throughput.perMinute));
    expect(await text('status-completed')).toBe(formatInt(api.statusCounts.completed));
    expect(await text('kpi-dead-letters')).toBe('2');
    const main = await fetch(gateway.url);
    expect(main.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(cspViolations).toEqual([]);
  });

  it('shows a firing alert in a banner and in the alerts panel', async () => {
    await waitFor(async () => (await page.getByTestId('alert-banner').count()) === 1, {
      timeoutMs: 60_000,
      what: 'the alert banner',
    });
    expect(await text('alert-banner')).toMatch(
      new RegExp(
        `^1 alert firing\\s*test-lag group ${group} is \\d+\\+? s behind \\(15 messages\\)\\s*since \\d+ s ago$`,
      ),
    );
    const row = page.getByTestId('alerts-history').locator('tr[data-state="firing"]');
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(`test-lag${group}`);
  });

  it('redraws the throughput chart when new metrics arrive', async () => {
    const blue: [number, number, number] = [56, 189, 248]; // the "polled" series
    const before = await colourPixels(page, 'throughput per stage', blue);
    expect(before).toBeGreaterThanOrEqual(0);
    feeder = startFeeder(producer, topics);
    await waitFor(async () => (await text('stage-rate-polled')) === '80/s', {
      timeoutMs: 90_000,
      what: 'the polled rate from the published snapshots',
    });
    await waitFor(async () => (await colourPixels(page, 'throughput per stage', blue)) > before + 150, {
      timeoutMs: 30_000,
      what: 'the polled line to be drawn',
    });
    expect(await page.getByTestId('stage-polled').getAttribute('data-status')).toBe('green');
    expect(await text('stage-rate-gold-written')).toBe('52/s');
    await waitFor(async () => (await page.getByTestId(`lag-${group}`).count()) === 1, {
      timeoutMs: 30_000,
      what: 'the lag table',
    });
    fs.mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
    expect(cspViolations).toEqual([]); // charts and live updates included
  });

  it('shows the progress of replays, then "done"', async () => {
    const draining = uniqueName('tributary.bronze.workspaces');
    const finishing = uniqueName('tributary.processor');
    const instance = `replay@test-${randomUUID()}`;
    let at = Date.now();
    const publish = (lags: Record<string, number>) =>
      producer.send({
        topic: topics.metrics,
        messages: [
          {
            key: instance,
            value: encodeSnapshot({
              role: 'replay',
              instance,
              at: at++,
              counters: [],
              gauges: Object.entries(lags).flatMap(([group, lag]) => [
                sample(METRICS.replay.total, 5000, { group }),
                sample(METRICS.replay.lag, lag, { group }),
                sample(METRICS.replay.members, 1, { group }),
              ]),
            }),
          },
        ],
      });
    const replayText = async (g: string) =>
      (await page.getByTestId(`replay-text-${g}`).count()) === 1 ? await text(`replay-text-${g}`) : undefined;
    expect(await page.getByTestId('replays').count()).toBe(0); // no replay, no panel
    // published until shown: the gateway reads the metrics topic from the latest offset
    await waitFor(
      async () => {
        await publish({ [draining]: 3766, [finishing]: 1000 });
        return (await replayText(draining)) !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the replays panel' },
    );
    expect(await replayText(draining)).toBe('1,234 / 5,000 reprocessed (25%)');
    expect(await replayText(finishing)).toBe(
      formatReplay({ lagMessages: 1000, totalMessages: 5000, progress: 0.8 }),
    );
    expect(await text('replays')).toContain(draining);
    await publish({ [draining]: 2500, [finishing]: 0 });
    await waitFor(async () => (await replayText(finishing))?.endsWith('done'), {
      timeoutMs: 60_000,
      what: 'the finished replay to say done',
    });
    expect(await replayText(finishing)).toBe('5,000 / 5,000 reprocessed — done');
    expect(await replayText(draining)).toBe('2,500 / 5,000 reprocessed (50%)');
    await page.screenshot({ path: 'test-artifacts/dashboard-replays.png', fullPage: true });
  });

  it('marks a stalled stage red with its reason, and a stage whose role went quiet grey', async () => {
    const stalledInstance = `processor@stalled-${randomUUID()}`;
    const reason = 'group tributary.processor: no batch committed for 61 s with 1,234 messages waiting';
    const snapshot = (role: string, instance: string, gauges: MetricSample[]) => ({
      key: instance,
      value: encodeSnapshot({ role, instance, at: Date.now(), counters: [], gauges }),
    });
    const { stalled, stallInfo } = METRICS.role;
    // published until shown: the gateway reads the metrics topic from the latest offset
    await waitFor(
      async () => {
        await producer.send({
          topic: topics.metrics,
          messages: [
            snapshot('processor', stalledInstance, [sample(stalled, 1), sample(stallInfo, 1, { reason })]),
            // heard from once: 15 s later the gold stage is no longer known to be fine
            snapshot('gold-mongo', `gold-mongo@quiet-${randomUUID()}`, [sample(stalled, 0)]),
          ],
        });
        return (await page.getByTestId('stage-joined').getAttribute('data-status')) === 'red';
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the joined stage to turn red' },
    );
    expect(await text('stage-reason-joined')).toBe(`processor stalled: ${reason}`);
    const topColour = (stage: string) =>
      page.getByTestId(`stage-${stage}`).evaluate((el) => getComputedStyle(el).borderTopColor);
    expect(await topColour('joined')).toBe('rgb(239, 68, 68)'); // --red
    await waitFor(
      async () => (await page.getByTestId('stage-gold-written').getAttribute('data-status')) === 'stale',
      {
        timeoutMs: 60_000,
        what: 'the gold stage to turn grey once gold-mongo is quiet for 15 s',
      },
    );
    expect(await text('stage-reason-gold-written')).toMatch(/^no gold-mongo metrics for \d+ s$/);
    expect(await text('stage-rate-gold-written')).toBe('—');
    expect(await topColour('gold-written')).toBe('rgb(139, 155, 180)'); // --muted
    // the stalled instance went quiet too: the processor that still reports decides the colour again
    // (by the lag rules; the test's lagging group keeps it amber or red, but no longer "stalled")
    await waitFor(async () => !(await text('stage-reason-joined')).includes('stalled'), {
      timeoutMs: 60_000,
      what: 'the joined stage to no longer say stalled',
    });
    await page.screenshot({ path: 'test-artifacts/dashboard-stalled.png', fullPage: true });
  });

  it('shows the lineage of a job when its row is clicked', async () => {
    await page.goto(gateway.url);
    await waitFor(async () => (await page.getByTestId('job-row').count()) > 0, {
      timeoutMs: 60_000,
      what: 'the recent jobs table',
    });
    const newest = ((await (await fetch(`${gateway.url}/api/jobs?limit=1`)).json()) as JobsPage).jobs[0]!;
    const { rows } = await pool.query(
      `SELECT source_partition AS p, source_offset::text AS o FROM ${gold.table} WHERE job_id = $1`,
      [newest.jobId],
    );
    await page.getByTestId('job-row').first().click();
    await waitFor(async () => /Postgres holds/.test(await text('lineage')), {
      timeoutMs: 60_000,
      what: 'the lineage panel',
    });
    // the fixture rows have no bronze versions: the panel names the job and the row the table holds
    const panel = (await text('lineage')).replace(/\s+/g, ' ');
    expect(panel).toContain(newest.jobId);
    expect(panel).toContain(`Postgres holds gold ${rows[0].p}@${rows[0].o}`);
    expect(panel).toContain('0 job versions');
    expect(cspViolations).toEqual([]);
  });

  it('fits a phone screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    try {
      await phone.goto(gateway.url);
      await waitFor(async () => (await phone.getByTestId('kpi-total').textContent())?.trim() !== '—', {
        timeoutMs: 60_000,
        what: 'KPIs on the phone page',
      });
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: 'test-artifacts/dashboard-phone.png', fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('says the data is stale while the gateway is down and recovers after its restart', async () => {
    const port = new URL(gateway.url).port;
    await gateway.close();
    const stale = await waitFor(
      async () => {
        const banner = page.getByTestId('banner');
        if ((await banner.count()) === 0) return undefined;
        const m = /Stale — last update (\d+) s ago/.exec((await banner.textContent()) ?? '');
        return m && Number(m[1]) >= 5 ? m[0] : undefined;
      },
      { timeoutMs: 60_000, what: 'the stale banner' },
    );
    expect(stale).toMatch(/Stale/);
    expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('offline');
    gateway = await startTestGateway(infra, { ...env, TRIBUTARY_GATEWAY_PORT: port });
    const state = () => page.getByTestId('connection').getAttribute('data-state');
    await waitFor(
      async () => (await state()) === 'live' && (await page.getByTestId('banner').count()) === 0,
      {
        timeoutMs: 90_000,
        what: 'the page to reconnect',
      },
    );
    await waitFor(async () => (await text('stage-rate-polled')) === '80/s', {
      timeoutMs: 60_000,
      what: 'live rates after the restart',
    });
  });
});
