import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { createRoleMetrics } from '../common/metrics.ts';
import { waitFor } from '../common/wait-for.ts';
import { readDeadLetter } from '../contracts/dead-letter.ts';
import { HEADERS } from '../contracts/headers.ts';
import { type FakeSource, type FakeVersion, startFakeSource } from '../tests/support/poller-fake-source.ts';
import { createFakeKafka, type FakeKafka } from '../tests/support/poller-fakes.ts';
import { APIS } from './apis.ts';
import { createPollerMetrics } from './metrics.ts';
import { createPoller, type Poller } from './poller.ts';
import { createSourceClient } from './source-client.ts';

const T = Date.parse('2024-05-02T12:00:00.000Z');
const ws = (i: number, at: number, extra: Partial<FakeVersion> = {}): FakeVersion => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  name: `w${i}`,
  plan: 'free',
  segment: 'smb',
  country: 'FR',
  owner_email: `o${i}@x.test`,
  created_at: new Date(T).toISOString(),
  updated_at: new Date(at).toISOString(),
  ...extra,
});

let source: FakeSource;
let kafka: FakeKafka;
let poller: Poller | undefined;
const metrics = createPollerMetrics(createRoleMetrics('pollers'));

function start(): Poller {
  poller = createPoller({
    api: APIS.workspaces,
    topics: { raw: 'raw', dlq: 'dlq' },
    source: createSourceClient({ baseUrl: source.url, timeoutMs: 2000 }),
    createCommitter: kafka.createCommitter,
    transactionalId: 'tributary.poller.workspaces',
    stateStore: kafka.stateStore,
    limits: { load: async () => {}, maxMessageBytes: () => 1_048_588 },
    prepareEncoder: async () => async (record) => Buffer.from(JSON.stringify(record)),
    metrics,
    logger: createLogger('test', 'silent'),
    intervalMs: 20,
    pageSize: 2,
    overlapMs: 2000,
    retry: { retries: 3, minDelayMs: 5, maxDelayMs: 20 },
  });
  return poller;
}

/** (id, updated_at) of every record committed to the raw topic, in order */
const published = () =>
  kafka.messages('raw').map((m) => {
    const r = JSON.parse(String(m.value)) as { id: string; updated_at: number };
    return `${r.id.slice(-1)}@${r.updated_at - T}`;
  });
const wait = (check: () => boolean, what: string) =>
  waitFor(check, { timeoutMs: 10_000, intervalMs: 10, what });

beforeEach(async () => {
  source = await startFakeSource();
  kafka = createFakeKafka();
});
afterEach(async () => {
  await poller?.close();
  poller = undefined;
  await source.close();
});

describe('poller loop', () => {
  it('commits one transaction per page with its state, and publishes each version once across walks', async () => {
    source.versions.workspaces = [ws(1, T), ws(2, T + 1), ws(3, T + 2)];
    start();
    await wait(() => published().length === 3, 'the first walk');
    expect(kafka.committed).toHaveLength(2); // pages of 2 + 1
    for (const tx of kafka.committed) expect(tx.map((b) => b.topic)).toEqual(['raw', 'state']);
    const key = kafka.messages('raw')[0]!.key;
    expect(key).toBe(ws(1, T).id);
    // new versions (one inside the overlap window, behind the hwm) arrive between walks
    source.versions.workspaces!.push(ws(1, T + 5), ws(4, T + 1));
    await wait(() => published().length === 5, 'the new versions');
    await wait(() => source.requests.length > 12, 'a few more walks');
    expect(published()).toEqual(['1@0', '2@1', '3@2', '4@1', '1@5']);
    expect(poller!.healthy()).toBe(true);
  });

  it('sends malformed records to the DLQ with the reason and lineage headers, and keeps going', async () => {
    source.versions.workspaces = [ws(1, T), ws(2, T + 1, { plan: 'platinum' }), ws(3, T + 2)];
    start();
    await wait(() => published().length === 2, 'the valid records');
    const [dead] = kafka.messages('dlq');
    expect(JSON.parse(String(dead!.value))).toMatchObject({ plan: 'platinum' });
    const context = readDeadLetter(dead!.headers);
    expect(context.reason).toMatch(/^plan: "platinum" is not a valid enum/);
    expect(context).toMatchObject({ stage: 'TASK_POLL', writer: 'tributary.poller.workspaces', from: null });
    expect(dead!.headers).toMatchObject({
      [HEADERS.source]: 'workspaces',
      [HEADERS.requestId]: 'req-1',
    });
    expect(kafka.messages('dlq')).toHaveLength(1);
  });

  it('after a failed commit, reopens and resumes from the committed state: no loss, no duplicate', async () => {
    source.versions.workspaces = [ws(1, T), ws(2, T + 1), ws(3, T + 2), ws(4, T + 3), ws(5, T + 4)];
    kafka.failNextCommit(false);
    start();
    await wait(() => published().length === 5, 'all versions after a lost commit');
    kafka.failNextCommit(true); // this time the commit lands but the answer is lost
    source.versions.workspaces!.push(ws(6, T + 5), ws(7, T + 6), ws(8, T + 7));
    await wait(() => published().length === 8, 'all versions after an unacknowledged commit');
    await wait(() => kafka.opened >= 3, 'the committer to be reopened');
    await wait(() => source.requests.length > 20, 'a few more walks');
    expect(published()).toEqual(['1@0', '2@1', '3@2', '4@3', '5@4', '6@5', '7@6', '8@7']);
  });

  it('retries a 429 and a truncated body, and turns a 404 into an unhealthy walk retried next interval', async () => {
    source.versions.workspaces = [ws(1, T)];
    source.faults.push({ status: 429, retryAfter: '0' }, { body: '{"data": [' }, { status: 404 });
    start();
    await wait(() => published().length === 1, 'the record');
    const errors = await metrics.errors.get();
    expect(errors.values.find((v) => v.labels.kind === 'request')?.value).toBe(1);
    await wait(() => poller!.healthy(), 'a healthy walk after the 404');
    expect(source.requests.length).toBeGreaterThanOrEqual(4);
  });

  it('close() finishes and commits the page in flight, then fetches nothing more', async () => {
    source.versions.workspaces = [ws(1, T), ws(2, T + 1), ws(3, T + 2)];
    const held = kafka.holdCommits();
    const p = start();
    await wait(held.pending, 'the first page to be committing');
    let closed = false;
    const closing = p.close().then(() => {
      closed = true;
    });
    await wait(() => source.requests.length === 1 && !closed, 'close() to wait for the commit');
    held.release();
    await closing;
    expect(published()).toEqual(['1@0', '2@1']);
    expect(source.requests).toHaveLength(1);
  });
});
