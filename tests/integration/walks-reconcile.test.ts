import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { bronzeRole } from '../../consumers/bronze/role.ts';
import { type Gateway, startGateway } from '../../gateway/gateway.ts';
import { gatewayOptions } from '../../gateway/options.ts';
import { walksOptions } from '../../gateway/walks/options.ts';
import type { WalkView } from '../../gateway/walks/reconcile.ts';
import { pollersOptions } from '../../producers/options.ts';
import { type RunningPollers, startPollers } from '../../producers/pollers.ts';
import type { RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import { launchChromium } from '../support/browser.ts';
import { FAST_GROUP_ENV, silentLogger } from '../support/consumer-fixtures.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { testInfra, uniqueName } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  drain,
  type PollerTopics,
  pollerEnv,
  readCommitted,
  startTestSource,
  type TestSource,
} from '../support/poller-harness.ts';

/**
 * Reconciliation per walk against the real servers: pollers walk the mock source, bronze writes,
 * the gateway stores each walk's summary and counts it against bronze. Then versions are lost the
 * way they are lost in production — bronze is down while the raw records are deleted (retention,
 * or an operator's DeleteRecords) — and the walks that served them must be flagged.
 */
const infra = testInfra();

describe('reconciliation per walk', () => {
  const { kafka, admin } = useKafkaClients('walks');
  let topics: PollerTopics;
  let source: TestSource;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let pollers: RunningPollers | undefined;
  let bronze: RunningRole | undefined;
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    // before the gateway starts: it serves the files that exist when it starts
    await ensureDashboardBuilt();
    // one partition: any new record moves bronze's committed offset past the lost ones
    topics = await createPollerTopics(admin, 1);
    source = await startTestSource({ TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '100000' });
    pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
    const group = uniqueName('walks');
    env = {
      ...FAST_GROUP_ENV,
      ...pollerEnv(topics, source.url),
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: `${group}.bronze.ws`,
      TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: `${group}.bronze.jobs`,
      TRIBUTARY_WALKS_GROUP: `${group}.gateway.walks`,
      TRIBUTARY_WALKS_RECONCILE_MS: '300',
      TRIBUTARY_GATEWAY_PORT: '0',
      TRIBUTARY_GATEWAY_LAG_GROUPS: `${group}.bronze.ws`,
    };
  });

  afterAll(async () => {
    await pollers?.close();
    await bronze?.close();
    await gateway?.close();
    await source?.close();
    if (topics) {
      const raw = [topics.rawWorkspaces, topics.rawJobs];
      await pool?.query('DELETE FROM ops.walks WHERE raw_topic = ANY($1)', [raw]);
      await pool?.query('DELETE FROM bronze.workspaces WHERE topic = $1', [topics.rawWorkspaces]);
      await pool?.query('DELETE FROM bronze.enrichment_jobs WHERE topic = $1', [topics.rawJobs]);
    }
    await pool?.end();
    await deletePollerTopics(admin, topics);
  });

  const walks = async (): Promise<WalkView[]> => {
    const res = await fetch(`${gateway!.url}/api/walks?limit=500`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { walks: WalkView[] }).walks;
  };
  const gauge = async (name: string, api: string): Promise<number> => {
    const text = await (await fetch(`${gateway!.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`api="${api}"`));
    return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
  };
  /** the text as read on the page: whitespace of the markup collapsed */
  const text = (t: string | null) => (t ?? '').replace(/\s+/g, ' ').trim();
  const bronzeCount = async (table: string, topic: string) =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${table} WHERE topic = $1`, [topic])).rows[0].n);

  it('reconciles every walk while bronze keeps up, and flags the walks whose versions never landed', async () => {
    gateway = await startGateway({
      options: gatewayOptions(env),
      infra,
      logger: silentLogger,
      walks: walksOptions(env),
    });
    bronze = await startRoleFromEnv(bronzeRole, { infra, env, logger: silentLogger });
    pollers = await startPollers({ infra, options: pollersOptions(env), logger: silentLogger });

    // Phase 1: a few walks of a changing source, then quiet; every walk must reconcile.
    await waitFor(async () => (await walks()).filter((w) => w.api === 'enrichment-jobs').length >= 4, {
      timeoutMs: 90_000,
      what: 'four walks of the jobs feed recorded',
    });
    await source.admin('POST', '/simulator/pause');
    await drain(pollers, source);
    const raw = await readCommitted(kafka, [topics.rawWorkspaces, topics.rawJobs]);
    const settled = await waitFor(
      async () => {
        const all = await walks();
        const published = all.reduce((n, w) => n + w.published, 0);
        return published === raw.length && all.every((w) => w.status !== 'pending') ? all : undefined;
      },
      { timeoutMs: 60_000, what: 'every published record in a settled walk' },
    );
    for (const w of settled) {
      expect(w, w.walkId).toMatchObject({ status: 'reconciled', missing: 0, inBronze: w.published });
      expect(w.served).toBe(w.inBronze! + w.deadLetters!);
      expect(w.served + w.duplicates).toBeGreaterThan(0);
    }
    // the walks' offset ranges cover each raw record exactly once
    for (const topic of [topics.rawWorkspaces, topics.rawJobs]) {
      const covered = settled
        .filter((w) => w.rawTopic === topic)
        .flatMap((w) => w.rawOffsets.flatMap((r) => [BigInt(r.first), BigInt(r.last)]));
      const offsets = raw.filter((r) => r.topic === topic).map((r) => BigInt(r.message.offset));
      for (const o of offsets) {
        const inRanges = settled.filter(
          (w) =>
            w.rawTopic === topic && w.rawOffsets.some((r) => BigInt(r.first) <= o && o <= BigInt(r.last)),
        );
        expect(inRanges.length, `${topic}@${o}`).toBe(1);
      }
      expect(covered.length).toBeGreaterThan(0);
    }
    expect(await gauge('tributary_walks_unreconciled', 'enrichment-jobs')).toBe(0);

    // Phase 2: bronze is down while the source changes; the raw job records of those walks are
    // deleted before bronze reads them. Those walks served versions that never land.
    await bronze.close();
    bronze = undefined;
    const before = new Set(settled.map((w) => w.walkId));
    await source.admin('POST', '/simulator/resume');
    const lostWalks = await waitFor(
      async () => {
        const fresh = (await walks()).filter(
          (w) => !before.has(w.walkId) && w.api === 'enrichment-jobs' && w.published > 0,
        );
        return fresh.length >= 2 ? fresh : undefined;
      },
      { timeoutMs: 90_000, what: 'two walks of the jobs feed while bronze is down' },
    );
    await source.admin('POST', '/simulator/pause');
    await drain(pollers, source);
    // every summary of the period ingested: the walks account for every committed raw record
    const rawNow = await readCommitted(kafka, [topics.rawWorkspaces, topics.rawJobs]);
    const all = await waitFor(
      async () => {
        const listed = await walks();
        return listed.reduce((n, w) => n + w.published, 0) === rawNow.length ? listed : undefined;
      },
      { timeoutMs: 60_000, what: 'every walk of the period recorded' },
    );
    const lost = all.filter((w) => !before.has(w.walkId) && w.api === 'enrichment-jobs' && w.published > 0);
    expect(lost.length).toBeGreaterThanOrEqual(lostWalks.length);
    expect(lost.every((w) => w.status === 'pending')).toBe(true);
    const lostRecords = lost.reduce((n, w) => n + w.published, 0);
    expect(lostRecords).toBeGreaterThan(0);
    await admin.deleteTopicRecords({ topic: topics.rawJobs, partitions: [{ partition: 0, offset: '-1' }] });

    // Bronze comes back and the source writes again: bronze commits past the lost records.
    const jobsRowsBefore = await bronzeCount('bronze.enrichment_jobs', topics.rawJobs);
    bronze = await startRoleFromEnv(bronzeRole, { infra, env, logger: silentLogger });
    await source.admin('POST', '/simulator/resume');
    await waitFor(
      async () => (await bronzeCount('bronze.enrichment_jobs', topics.rawJobs)) > jobsRowsBefore,
      {
        timeoutMs: 90_000,
        what: 'bronze writing new job versions',
      },
    );
    await source.admin('POST', '/simulator/pause');
    const flagged = await waitFor(
      async () => {
        const byId = new Map((await walks()).map((w) => [w.walkId, w]));
        const now = lost.map((w) => byId.get(w.walkId)!);
        return now.every((w) => w.status === 'unreconciled') ? now : undefined;
      },
      { timeoutMs: 60_000, what: 'the walks of the lost records flagged' },
    );
    for (const w of flagged) expect(w).toMatchObject({ inBronze: 0, missing: w.published });
    expect(flagged.reduce((n, w) => n + (w.missing ?? 0), 0)).toBe(lostRecords);
    await waitFor(
      async () => (await gauge('tributary_walks_unreconciled', 'enrichment-jobs')) === flagged.length,
      {
        timeoutMs: 30_000,
        what: `tributary_walks_unreconciled{api="enrichment-jobs"} = ${flagged.length}`,
      },
    );
    expect(await gauge('tributary_walks_unreconciled', 'workspaces')).toBe(0);
    const health = gateway.walks!.health();
    expect(health.find((h) => h.api === 'enrichment-jobs')).toMatchObject({ unreconciled: flagged.length });
    const listed = await fetch(`${gateway.url}/api/walks?status=unreconciled&api=enrichment-jobs`);
    expect(((await listed.json()) as { walks: WalkView[] }).walks.map((w) => w.walkId).sort()).toEqual(
      flagged.map((w) => w.walkId).sort(),
    );
    // the workspaces walks of the same period were only late: they reconcile once bronze is back
    await waitFor(
      async () =>
        (await walks()).filter((w) => w.api === 'workspaces').every((w) => w.status === 'reconciled'),
      { timeoutMs: 60_000, what: 'every workspaces walk reconciled' },
    );

    // The dashboard shows it: the jobs API flagged, the workspaces one reconciled.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway.url}/`);
      const flag = page.getByTestId('walk-flag-enrichment-jobs');
      await flag.waitFor({ timeout: 30_000 });
      expect(text(await flag.textContent())).toBe(
        flagged.length === 1 ? '1 walk does not reconcile' : `${flagged.length} walks do not reconcile`,
      );
      await page
        .locator('[data-testid="walk-workspaces"][data-status="reconciled"]')
        .waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('walk-flag-workspaces').count()).toBe(0);
      expect(text(await page.getByTestId('walk-workspaces').textContent())).toMatch(
        /\d+ served · \d+ in bronze · 0 missing · \d+ dead letters/,
      );
    } finally {
      await browser.close();
    }
  });
});
