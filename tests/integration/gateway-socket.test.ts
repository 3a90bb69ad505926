import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import type pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { waitFor } from '../../common/wait-for.ts';
import { encodeSnapshot, METRICS, type MetricsSnapshot, sample } from '../../contracts/metrics/index.ts';
import {
  type ClientToServerEvents,
  type HistoryPoint,
  type LiveUpdate,
  type ServerToClientEvents,
  STAGES,
} from '../../gateway/events.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import {
  createGoldCopy,
  fixturePool,
  insertGoldRows,
  startTestGateway,
  testTopologyEnv,
} from '../../gateway/testing.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { createTopics, dropTopics } from '../support/kafka.ts';

const infra = testInfra();
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket client that records what it receives. */
function connect(url: string): { socket: Client; history: HistoryPoint[][]; live: LiveUpdate[] } {
  const socket: Client = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const history: HistoryPoint[][] = [];
  const live: LiveUpdate[] = [];
  socket.on('history', (points) => history.push(points));
  socket.on('live', (update) => live.push(update));
  return { socket, history, live };
}

describe('gateway live socket', () => {
  const kafka = createKafka(infra.kafka, uniqueName('gateway-socket-test'), testLogger);
  const topics = {
    metrics: uniqueName('metrics'),
    raw: uniqueName('raw'),
    data: uniqueName('data'),
    dlq: uniqueName('dlq'),
  };
  const group = uniqueName('watched-group');
  let admin: Admin;
  let producer: Producer;
  let pool: pg.Pool;
  let gold: { table: string; drop(): Promise<void> };
  let gateway: Gateway;
  let client: ReturnType<typeof connect>;
  const latest = () => client.live.at(-1);

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    await createTopics(
      admin,
      Object.values(topics).map((topic) => ({ topic, partitions: 1 })),
    );
    pool = fixturePool(infra);
    gold = await createGoldCopy(pool);
    const ws = { workspaceId: randomUUID(), plan: 'pro', segment: 'smb', country: 'DE' };
    await insertGoldRows(pool, gold.table, [
      {
        ...ws,
        status: 'completed',
        requested: 10,
        enriched: 9,
        createdAt: new Date(Date.now() - 5000),
        finishedAt: new Date(),
      },
      { ...ws, status: 'queued', requested: 10, enriched: 0, createdAt: new Date() },
    ]);
    gateway = await startTestGateway(infra, {
      TRIBUTARY_GOLD_TABLE: gold.table,
      ...testTopologyEnv({ raw: topics.raw, gold: topics.data, dlq: topics.dlq, metrics: topics.metrics }),
      TRIBUTARY_GATEWAY_LAG_GROUPS: group,
      TRIBUTARY_GATEWAY_KPI_REFRESH_MS: '500',
    });
    client = connect(gateway.url);
  });

  afterAll(async () => {
    client?.socket.close();
    await gateway?.close();
    await gold?.drop();
    await pool?.end();
    await admin?.deleteGroups([group]).catch(() => {});
    await dropTopics(admin, Object.values(topics));
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  });

  it('pushes one aggregated update per tick with the declared shape', async () => {
    const ready = (u: LiveUpdate | undefined) =>
      u?.kpis && u.sources.kafka.ok && u.stages.find((s) => s.stage === 'published')?.ratePerSec === 0;
    const update = await waitFor(() => (ready(latest()) ? latest() : undefined), {
      timeoutMs: 60_000,
      what: 'a live update with KPIs',
    });
    expect(client.history.length).toBeGreaterThanOrEqual(1);
    expect(update).toEqual({
      at: expect.any(Number),
      stages: STAGES.map((stage) => ({
        stage,
        // no role has reported yet; the published rate comes from Kafka offsets (0 records/s)
        ratePerSec: stage === 'published' ? 0 : null,
        status: expect.stringMatching(/^(green|amber|red|stale)$/),
        reason: expect.any(String),
      })),
      lag: [],
      pollers: [],
      // the test's dead-letter topic, and the consumers' dlq.<raw> and dlq.<gold> it never creates
      deadLetters: [topics.dlq, `dlq.${topics.raw}`, `dlq.${topics.data}`]
        .sort()
        .map((topic) => ({ topic, messages: 0, recentIncrease: 0 })),
      unresolvedJobs: null,
      kpis: expect.objectContaining({
        statusCounts: { queued: 1, processing: 0, completed: 1, failed: 0, canceled: 0, total: 2 },
        successRate: expect.objectContaining({ jobSuccessRate: 1, recordSuccessRate: 0.9 }),
      }),
      recentJobs: [
        expect.objectContaining({ status: 'queued' }),
        expect.objectContaining({ status: 'completed' }),
      ],
      replays: [],
      sources: {
        kafka: { ok: true },
        postgres: { ok: true },
        metrics: expect.objectContaining({ ok: expect.any(Boolean), instances: 0, lastSnapshotAt: null }),
      },
    });
    // one update a second, not one per record: a few seconds bring a few updates
    const count = client.live.length;
    await waitFor(() => client.live.length >= count + 2, { timeoutMs: 30_000, what: 'two more ticks' });
  });

  it('turns metrics snapshots into per-stage rates and poller health', async () => {
    const send = (snapshots: MetricsSnapshot[]) =>
      producer.send({
        topic: topics.metrics,
        messages: snapshots.map((s) => ({ key: s.instance, value: encodeSnapshot(s) })),
      });
    // the gateway reads from the latest offset: probe until it sees snapshots, then send the real ones
    await waitFor(
      async () => {
        await send([
          { role: 'probe', instance: `probe-${randomUUID()}`, at: Date.now(), counters: [], gauges: [] },
        ]);
        return (latest()?.sources.metrics.instances ?? 0) > 0;
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: 'the gateway to consume metrics snapshots' },
    );
    const t0 = Date.now() - 3000;
    const series = (role: string, make: (i: number) => Pick<MetricsSnapshot, 'counters' | 'gauges'>) =>
      [0, 1, 2, 3].map((i) => ({
        role,
        instance: `${role}@test-${randomUUID()}`,
        at: t0 + i * 1000,
        ...make(i),
      }));
    const fixed = (list: MetricsSnapshot[]) => list.map((s) => ({ ...s, instance: list[0]!.instance }));
    const { pollers, bronze, processor, goldSinks } = METRICS;
    const ws = { api: 'workspaces' };
    await send([
      ...fixed(
        series('poller', (i) => ({
          counters: [
            sample(pollers.published, i * 100, ws),
            sample(pollers.published, i * 50, { api: 'enrichment-jobs' }),
            sample(pollers.requests, i * 10, { ...ws, status: '200' }),
            sample(pollers.rateLimited, i, ws),
            sample(pollers.retries, 2 * i, ws),
          ],
          gauges: [
            sample(pollers.healthy, 1, ws),
            sample(pollers.behindSeconds, 2.5, ws),
            sample(pollers.lastSuccess, (t0 + i * 1000) / 1000, ws),
          ],
        })),
      ),
      ...fixed(
        series('bronze', (i) => ({
          counters: [sample(bronze.rowsWritten, i * 120, { topic: 'raw' })],
          gauges: [],
        })),
      ),
      ...fixed(
        series('processor', (i) => ({
          counters: [sample(processor.goldRecords, i * 40)],
          gauges: [sample(processor.unresolvedJobs, 7)],
        })),
      ),
      ...fixed(
        series('gold-sinks', (i) => ({
          counters: [
            sample(goldSinks.rowsWritten, i * 40, { sink: 'postgres' }),
            sample(goldSinks.rowsWritten, i * 30, { sink: 'mongo' }),
          ],
          gauges: [],
        })),
      ),
    ]);
    const rate = (u: LiveUpdate | undefined, stage: string) =>
      u?.stages.find((s) => s.stage === stage)?.ratePerSec;
    const update = await waitFor(() => (rate(latest(), 'joined') === 40 ? latest() : undefined), {
      timeoutMs: 60_000,
      what: 'the joined rate to appear',
    });
    expect(rate(update, 'polled')).toBe(150);
    expect(rate(update, 'bronze-written')).toBe(120);
    expect(rate(update, 'gold-written')).toBe(30); // the slowest sink
    expect(update.unresolvedJobs).toBe(7);
    expect(update.pollers.find((p) => p.api === 'workspaces')).toEqual({
      api: 'workspaces',
      healthy: true,
      lagSeconds: 2.5,
      lastSuccessAt: t0 + 3000,
      requestsPerSec: 10,
      http429Total: 3,
      http429LastMinute: 3,
      retriesTotal: 6,
      retriesLastMinute: 6,
      dlqTotal: 0,
    });
    expect(update.stages.find((s) => s.stage === 'polled')).toMatchObject({
      status: 'amber',
      reason: expect.stringMatching(/429/),
    });
  });

  it('shows the progress of a replay per group, live, until it is done', async () => {
    const replayed = uniqueName('replayed-group');
    const instance = `replay@test-${randomUUID()}`;
    let at = Date.now();
    const publish = (lag: number, members: number) =>
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
              gauges: [
                sample(METRICS.replay.total, 1000, { group: replayed }),
                sample(METRICS.replay.lag, lag, { group: replayed }),
                sample(METRICS.replay.members, members, { group: replayed }),
              ],
            }),
          },
        ],
      });
    const replayOf = (u: LiveUpdate | undefined) => u?.replays.find((r) => r.group === replayed);
    // published until seen: the gateway reads the metrics topic from the latest offset
    const first = await waitFor(
      async () => {
        await publish(800, 0);
        return replayOf(latest());
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: 'the replay in the live update' },
    );
    expect(first).toEqual({
      group: replayed,
      lagMessages: 800,
      totalMessages: 1000,
      progress: 0.2,
      members: 0,
      updatedAt: expect.any(Number),
    });
    await publish(250, 2);
    const draining = await waitFor(
      () => (replayOf(latest())?.lagMessages === 250 ? replayOf(latest()) : undefined),
      {
        timeoutMs: 60_000,
        what: 'the replay progress to move',
      },
    );
    expect(draining).toMatchObject({ progress: 0.75, members: 2 });
    await publish(0, 2);
    await waitFor(() => replayOf(latest())?.progress === 1, {
      timeoutMs: 60_000,
      what: 'the replay to be done',
    });
    // a finished replay stays visible (for 60 s after its last snapshot)
    const count = client.live.length;
    await waitFor(() => client.live.length >= count + 2, { timeoutMs: 30_000, what: 'two more ticks' });
    expect(replayOf(latest())).toMatchObject({ lagMessages: 0, totalMessages: 1000, progress: 1 });
  });

  it('reports consumer lag in messages and seconds, dead letters and the published rate', async () => {
    await producer.send({
      topic: topics.data,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: 'x' })),
    });
    await producer.send({ topic: topics.dlq, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.send({ topic: topics.raw, messages: Array.from({ length: 5 }, () => ({ value: 'r' })) });
    await admin.setOffsets({
      groupId: group,
      topic: topics.data,
      partitions: [{ partition: 0, offset: '4' }],
    });

    const lagged = await waitFor(
      () => {
        const g = latest()?.lag.find((l) => l.group === group);
        return g?.messages === 6 && g.seconds > 0 ? g : undefined;
      },
      { timeoutMs: 60_000, what: 'the group to lag 6 messages' },
    );
    expect(lagged).toMatchObject({ topics: [topics.data], secondsAtLeast: false });
    expect(lagged.seconds).toBeLessThan(120);
    const letters = () => latest()?.deadLetters.find((d) => d.topic === topics.dlq);
    await waitFor(() => letters()?.messages === 3, {
      timeoutMs: 30_000,
      what: '3 dead letters',
    });
    expect(letters()).toEqual({ topic: topics.dlq, messages: 3, recentIncrease: 3 });
    expect(
      client.live.some((u) => (u.stages.find((s) => s.stage === 'published')?.ratePerSec ?? 0) > 0),
    ).toBe(true);

    await admin.setOffsets({
      groupId: group,
      topic: topics.data,
      partitions: [{ partition: 0, offset: '10' }],
    });
    await waitFor(
      () => {
        const g = latest()?.lag.find((l) => l.group === group);
        return g?.messages === 0 && g.seconds === 0;
      },
      { timeoutMs: 60_000, what: 'the group to catch up' },
    );
  });

  it('sends the rolling history to a new client and answers recent-jobs queries', async () => {
    const second = connect(gateway.url);
    try {
      const points = await waitFor(() => second.history[0], { timeoutMs: 30_000, what: 'the history' });
      expect(points.length).toBeGreaterThanOrEqual(3);
      const last = points.at(-1)!;
      expect(Object.keys(last.rates)).toEqual([...STAGES]);
      expect(last.lag[group]).toEqual({ messages: 0, seconds: 0 });
      const reply = await second.socket.emitWithAck('jobs:recent', { status: 'completed', limit: 5 });
      expect(reply.ok && reply.page.jobs.map((j) => j.status)).toEqual(['completed']);
      const bad = await second.socket.emitWithAck('jobs:recent', { limit: 1000 });
      expect(bad).toMatchObject({ ok: false, error: expect.any(String) });
    } finally {
      second.socket.close();
    }
  });
});
