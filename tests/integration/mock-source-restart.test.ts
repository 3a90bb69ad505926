import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { waitFor } from '../../common/wait-for.ts';
import { createMemoryWorld, mockSourceOptions, startMockSource } from '../../mock-source/index.ts';
import { mockSourceRole } from '../../mock-source/role.ts';
import { assertMockSourceStopped, mockSourceWorldToReset, resetMockSourceWorld } from '../../ops/reset.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import { testInfra } from '../support/infra.ts';
import { dropMockWorlds, mockWorldSchema } from '../support/mock-world.ts';

/**
 * The mock source keeps its world in Postgres: a restart continues it (same ids, same versions,
 * later timestamps only), one mock source runs per world, and a reset begins the seed's world again.
 */
const postgresUrl = testInfra().postgres.url;
const logger = createLogger('mock-source-test', 'silent');
const schemas: string[] = [];
const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
afterAll(async () => {
  await pool.end();
  await dropMockWorlds(postgresUrl, schemas);
});

type Version = Record<string, unknown> & { id: string; updated_at: string };
type Feed = Map<string, Version>; // `${updated_at}|${id}` → the version as served
const FEEDS = ['workspaces', 'enrichment-jobs'] as const;
const key = (v: Version) => `${v.updated_at}|${v.id}`;
const STATUS_RANK: Record<string, number> = {
  queued: 0,
  processing: 1,
  completed: 2,
  failed: 2,
  canceled: 2,
};

/** not one of the malformed versions (TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE) */
const validJob = (v: Version) =>
  typeof v.status === 'string' &&
  v.status in STATUS_RANK &&
  typeof v.enriched_count === 'number' &&
  typeof v.workspace_id === 'string' &&
  ['company', 'person'].includes(String(v.kind));

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** a world of its own: its environment, and the options read from it */
function newWorld(env: Record<string, string> = {}) {
  const schema = mockWorldSchema();
  schemas.push(schema);
  const envOf = (more: Record<string, string> = {}) => ({
    TRIBUTARY_MOCK_SOURCE_PORT: '0',
    TRIBUTARY_MOCK_SOURCE_SCHEMA: schema,
    TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '8',
    TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '30',
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '120',
    TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '12',
    TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.1',
    TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: '100000',
    TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: ADMIN_TOKEN,
    ...env,
    ...more,
  });
  return {
    schema,
    env: envOf,
    options: (more: Record<string, string> = {}) => mockSourceOptions(envOf(more)),
  };
}

async function admin<T>(url: string, path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** every version of both feeds, walked with next_cursor */
async function walk(url: string): Promise<Record<(typeof FEEDS)[number], Feed>> {
  const out = { workspaces: new Map(), 'enrichment-jobs': new Map() } as Record<(typeof FEEDS)[number], Feed>;
  for (const feed of FEEDS) {
    let cursor: string | null = null;
    do {
      const res = await fetch(`${url}/v1/${feed}?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: Version[]; next_cursor: string | null };
      for (const v of page.data) out[feed].set(key(v), v);
      cursor = page.next_cursor;
    } while (cursor);
  }
  return out;
}

async function versionCount(url: string): Promise<number> {
  const stats = await admin<{ workspaceVersions: number; jobVersions: number }>(url, '/stats');
  return stats.workspaceVersions + stats.jobVersions;
}

describe('mock source restart', () => {
  it('continues the same world: versions served before are served again, new ones are later', async () => {
    // the role, as `tributary start` runs it, stopped and started again
    const world = newWorld({ TRIBUTARY_MOCK_SOURCE_TICK_MS: '40', TRIBUTARY_MOCK_SOURCE_PAUSED: 'true' });
    const run = async (env: Record<string, string>, atStart?: (url: string) => Promise<void>) => {
      const role = await startRoleFromEnv(mockSourceRole, { infra: testInfra(), env, logger });
      try {
        const url = role.summary!;
        await atStart?.(url);
        const start = await versionCount(url);
        await admin(url, '/simulator/resume', 'POST');
        await waitFor(async () => (await versionCount(url)) >= start + 150, {
          timeoutMs: 60_000,
          what: 'the simulator to write 150 versions',
        });
        await admin(url, '/simulator/pause', 'POST'); // answered once the tick in flight is stored
        const feeds = await walk(url);
        expect(await versionCount(url)).toBe(feeds.workspaces.size + feeds['enrichment-jobs'].size);
        return feeds;
      } finally {
        await role.close();
      }
    };
    const before = await run(world.env());
    const lastBefore = Math.max(
      ...FEEDS.flatMap((f) => [...before[f].values()].map((v) => Date.parse(v.updated_at))),
    );
    // another seed in the environment changes nothing: the stored world continues
    const after = await run(world.env({ TRIBUTARY_MOCK_SOURCE_SEED: '12345' }), async (url) => {
      expect(await versionCount(url)).toBe(before.workspaces.size + before['enrichment-jobs'].size);
    });

    const idsBefore = new Map<string, string>(); // id → feed
    for (const feed of FEEDS) {
      for (const [k, v] of before[feed]) {
        expect(after[feed].get(k), `${feed} ${k} served again`).toEqual(v);
        idsBefore.set(v.id, feed);
      }
    }
    let continued = 0;
    for (const feed of FEEDS) {
      const latestBefore = new Map<string, Version>();
      for (const v of before[feed].values()) latestBefore.set(v.id, v); // feed order: the last is the latest
      const fresh = [...after[feed]].filter(([k]) => !before[feed].has(k)).map(([, v]) => v);
      expect(fresh.length).toBeGreaterThan(0);
      for (const v of fresh) {
        expect(Date.parse(v.updated_at)).toBeGreaterThan(lastBefore);
        const seenIn = idsBefore.get(v.id);
        if (seenIn === undefined) continue; // a record created after the restart
        // an id from before is the same record, updated: never another entity, never re-created
        expect(seenIn).toBe(feed);
        const prev = latestBefore.get(v.id)!;
        expect(v.created_at).toBe(prev.created_at);
        if (feed === 'enrichment-jobs' && validJob(v) && validJob(prev)) {
          expect(v.workspace_id).toBe(prev.workspace_id);
          expect(v.kind).toBe(prev.kind);
          expect(STATUS_RANK[v.status as string]!).toBeGreaterThanOrEqual(
            STATUS_RANK[prev.status as string]!,
          );
          expect(v.enriched_count as number).toBeGreaterThanOrEqual(prev.enriched_count as number);
          expect(prev.finished_at ?? null).toBeNull(); // a finished job never changes again
        }
        continued++;
      }
    }
    expect(continued).toBeGreaterThan(0); // records from before the restart did change after it
  });

  it('writes after a restart exactly what an uninterrupted run would have written', async () => {
    const { options } = newWorld({ TRIBUTARY_MOCK_SOURCE_PAUSED: 'true' });
    const start = Date.parse('2026-11-22T10:00:00.000Z');
    const steps = [1000, 7, 250, 1000, 3, 1000, 1000, 60, 1000, 1000, 500, 1000, 1, 1000, 1000, 20, 1000];
    const run = async (restartAt: number[], world?: ReturnType<typeof createMemoryWorld>) => {
      const clock = { t: start };
      const deps = { logger, now: () => clock.t, ...(world ? { world } : { postgresUrl }) };
      let source = await startMockSource(options(), deps);
      try {
        for (const [i, ms] of steps.entries()) {
          if (restartAt.includes(i)) {
            await source.close();
            source = await startMockSource(options(), deps);
          }
          clock.t += ms;
          await source.tick();
        }
        return await walk(source.url);
      } finally {
        await source.close();
      }
    };
    const restarted = await run([3, 9, 10, 15]);
    const straight = await run([], createMemoryWorld());
    for (const feed of FEEDS) expect([...restarted[feed].values()]).toEqual([...straight[feed].values()]);
    expect(restarted['enrichment-jobs'].size).toBeGreaterThan(50);
  });

  it('runs one mock source per world; a reset is refused while it runs, then begins the seed’s world', async () => {
    const { options, schema } = newWorld({ TRIBUTARY_MOCK_SOURCE_PAUSED: 'true' });
    const clock = { t: Date.parse('2026-11-22T10:00:00.000Z') };
    const deps = { logger, postgresUrl, now: () => clock.t };
    const source = await startMockSource(options(), deps);
    let first: Awaited<ReturnType<typeof walk>>;
    try {
      first = await walk(source.url);
      clock.t += 1000;
      await source.tick();
      const second = startMockSource(options(), deps).then((h) => h.close());
      await expect(second).rejects.toThrow(InfraError);
      await expect(second).rejects.toThrow(/another mock source is running on the world/);
      await expect(resetMockSourceWorld(pool, schema)).rejects.toThrow(
        /a mock source is running on the world/,
      );
      await expect(assertMockSourceStopped(pool, schema)).rejects.toMatchObject({
        fix: expect.stringContaining('stop the mock-source role'),
      });
    } finally {
      await source.close();
    }
    expect(
      mockSourceWorldToReset({ TRIBUTARY_MOCK_SOURCE_SCHEMA: schema }, { topics: false }),
    ).toBeUndefined();
    expect(mockSourceWorldToReset({ TRIBUTARY_MOCK_SOURCE_SCHEMA: schema }, { topics: true })).toBe(schema);
    await assertMockSourceStopped(pool, schema);
    const total = first.workspaces.size + first['enrichment-jobs'].size;
    const reset = await resetMockSourceWorld(pool, schema);
    expect(reset!.schema).toBe(schema);
    expect(reset!.versionsDeleted).toBeGreaterThanOrEqual(total);
    expect(total).toBeGreaterThan(8);
    // an empty store and the same seed: the same world as the first start (at the same clock reading)
    clock.t = Date.parse('2026-11-22T10:00:00.000Z');
    const again = await startMockSource(options(), deps);
    try {
      const fresh = await walk(again.url);
      for (const feed of FEEDS) expect([...fresh[feed].values()]).toEqual([...first[feed].values()]);
    } finally {
      await again.close();
    }
    expect(await resetMockSourceWorld(pool, mockWorldSchema())).toBeUndefined(); // no world there
  });
});
