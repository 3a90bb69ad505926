import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { waitFor } from '../../common/wait-for.ts';
import {
  createMemoryWorld,
  type MockSourceHandle,
  mockSourceOptions,
  startMockSource,
} from '../../mock-source/index.ts';
import { mockSourceRole } from '../../mock-source/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import { testInfra } from '../support/infra.ts';
import { dropMockWorlds, mockWorldSchema } from '../support/mock-world.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const logger = createLogger('mock-source-test', 'silent');
const postgresUrl = testInfra().postgres.url;
const schemas = [mockWorldSchema(), mockWorldSchema(), mockWorldSchema()];
afterAll(() => dropMockWorlds(postgresUrl, schemas));
type Version = { id: string; updated_at: string };
const key = (v: Version) => `${v.updated_at}|${v.id}`;

describe('mock source over HTTP', () => {
  let source: MockSourceHandle;
  const admin = () => ({ authorization: `Bearer ${source.adminToken}` });
  const getJson = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${source.url}${path}`, { headers });
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    return { status: res.status, body: await res.json() };
  };
  const tick = async () => {
    const res = await fetch(`${source.url}/admin/simulator/tick`, { method: 'POST', headers: admin() });
    expect(res.status).toBe(200);
    return (await res.json()) as { versions: number; skipped: boolean };
  };

  beforeAll(async () => {
    const opts = mockSourceOptions({
      TRIBUTARY_MOCK_SOURCE_PORT: '0',
      TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '20',
      TRIBUTARY_MOCK_SOURCE_SCHEMA: schemas[0]!,
    });
    source = await startMockSource(opts, { logger, postgresUrl });
  });
  afterAll(async () => {
    await source?.close();
  });

  it('listens on loopback on the port it was given (0: a free one) and generated an admin token', () => {
    expect(source.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(source.url).port).not.toBe('0');
    expect(source.adminToken.length).toBeGreaterThanOrEqual(16);
  });

  it.each(['workspaces', 'enrichment-jobs'])(
    'walks the %s feed with next_cursor while the simulator ticks, missing nothing',
    async (path) => {
      const atStart = (await getJson(`/admin/versions/${path}`, admin())).body as Version[];
      expect(atStart.length).toBeGreaterThan(0);
      const seen: Version[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query = new URLSearchParams({ limit: '10', ...(cursor ? { cursor } : {}) });
        const page = await getJson(`/v1/${path}?${query}`, { 'x-client-id': 'integration-test' });
        expect(page.status).toBe(200);
        seen.push(...page.body.data);
        cursor = page.body.next_cursor;
        await tick();
        pages++;
      } while (cursor !== null && pages < 200);
      expect(cursor).toBeNull();
      const keys = seen.map(key);
      expect([...keys].sort()).toEqual(keys);
      expect(new Set(keys).size).toBe(keys.length);
      const seenKeys = new Set(keys);
      expect(atStart.filter((v) => !seenKeys.has(key(v)))).toEqual([]);
      const now = new Set(((await getJson(`/admin/versions/${path}`, admin())).body as Version[]).map(key));
      expect(keys.filter((k) => !now.has(k))).toEqual([]);
      const latest = seen.at(-1)!;
      const one = await getJson(`/v1/${path}/${latest.id}`);
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(latest.id);
    },
  );

  it('ticks on its own once resumed, and stops when paused', async () => {
    const versions = async () => {
      const { body } = await getJson('/admin/stats', admin());
      return body.workspaceVersions + body.jobVersions;
    };
    const before = await versions();
    source.resume();
    await waitFor(async () => (await versions()) > before, {
      timeoutMs: 60_000,
      what: 'the simulator to tick',
    });
    await source.pause();
    expect((await getJson('/admin/stats', admin())).body.paused).toBe(true);
  });

  it('serves the OpenAPI document at /docs/json and the UI at /docs', async () => {
    const doc = await getJson('/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/workspaces', '/v1/enrichment-jobs/{id}', '/admin/versions/workspaces']),
    );
    const ui = await fetch(`${source.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('fails with an InfraError naming the port setting when the port is taken', async () => {
    const port = new URL(source.url).port;
    const opts = mockSourceOptions({
      TRIBUTARY_MOCK_SOURCE_PORT: port,
      TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
      TRIBUTARY_MOCK_SOURCE_SCHEMA: schemas[1]!,
    });
    const err = await startMockSource(opts, { logger, postgresUrl }).then(
      (h) => h.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).fix).toContain('TRIBUTARY_MOCK_SOURCE_PORT');
  });

  it('answers 401 on /admin without the token and 400 on a bad parameter', async () => {
    expect((await getJson('/admin/stats')).status).toBe(401);
    const bad = await getJson('/v1/workspaces?limit=1000');
    expect(bad).toEqual({
      status: 400,
      body: { error: 'Bad Request', message: expect.stringContaining('limit') },
    });
  });
});

describe('mock-source role', () => {
  it('starts from the environment, reports its URL and closes', async () => {
    const role = await startRoleFromEnv(mockSourceRole, {
      infra: testInfra(),
      env: {
        TRIBUTARY_MOCK_SOURCE_PORT: '0',
        TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
        TRIBUTARY_MOCK_SOURCE_SCHEMA: schemas[2]!,
      },
      logger,
    });
    try {
      expect(role.summary).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${role.summary}/healthz`);
      expect(await res.json()).toEqual({ status: 'ok' });
    } finally {
      await role.close();
    }
    await expect(fetch(`${role.summary}/healthz`)).rejects.toThrow();
  });
});

describe('generated admin token', () => {
  it('is printed once on the terminal and never written to the structured log', async () => {
    const logLines: string[] = [];
    const printed: string[] = [];
    const capture = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
    const source = await startMockSource(
      mockSourceOptions({ TRIBUTARY_MOCK_SOURCE_PORT: '0', TRIBUTARY_MOCK_SOURCE_PAUSED: 'true' }),
      { logger: capture, print: (line) => printed.push(line), world: createMemoryWorld() },
    );
    try {
      const res = await fetch(`${source.url}/admin/stats`, {
        headers: { authorization: `Bearer ${source.adminToken}` },
      });
      expect(res.status).toBe(200);
    } finally {
      await source.close();
    }
    expect(printed.filter((line) => line.includes(source.adminToken))).toHaveLength(1);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => line.includes(source.adminToken))).toEqual([]);
    expect(logLines.join('')).toContain('generated an admin token for this run');
  });
});
