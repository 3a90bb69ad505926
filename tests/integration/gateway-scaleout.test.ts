import { type Admin, AssignerProtocol, type Producer } from 'kafkajs';
import type pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { waitFor } from '../../common/wait-for.ts';
import { encodeSnapshot, METRICS, type MetricsSnapshot, sample } from '../../contracts/metrics/index.ts';
import type { ClientToServerEvents, LiveUpdate, ServerToClientEvents } from '../../gateway/events.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { createGoldCopy, fixturePool, startTestGateway, testTopologyEnv } from '../../gateway/testing.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { createTopics, dropTopics } from '../support/kafka.ts';

/**
 * Two gateways (issue 13): each must see every metrics snapshot. A shared consumer group would
 * split the metrics topic between them (with its one partition: one gateway sees everything, the
 * other nothing). Both gateways here run in one process, so they have the same
 * TRIBUTARY_INSTANCE_ID — the twin case — and must still read with groups of their own.
 */
const infra = testInfra();
type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

function connect(url: string): { socket: Client; live: LiveUpdate[] } {
  const socket: Client = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const live: LiveUpdate[] = [];
  socket.on('live', (update) => live.push(update));
  return { socket, live };
}

describe('gateway: two instances', () => {
  const kafka = createKafka(infra.kafka, uniqueName('gateway-scaleout-test'), testLogger);
  const topics = { metrics: uniqueName('metrics'), raw: uniqueName('raw'), gold: uniqueName('gold') };
  let admin: Admin;
  let producer: Producer;
  let pool: pg.Pool;
  let gold: { table: string; drop(): Promise<void> };
  const gateways: Gateway[] = [];
  const clients: Array<ReturnType<typeof connect>> = [];

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
    for (let i = 0; i < 2; i++) {
      const gateway = await startTestGateway(infra, {
        TRIBUTARY_GOLD_TABLE: gold.table,
        ...testTopologyEnv({ raw: topics.raw, gold: topics.gold, dlq: topics.raw, metrics: topics.metrics }),
        TRIBUTARY_GATEWAY_LAG_GROUPS: uniqueName('none'),
      });
      gateways.push(gateway);
      clients.push(connect(gateway.url));
    }
  });

  afterAll(async () => {
    for (const c of clients) c.socket.close();
    for (const g of gateways) await g.close();
    await gold?.drop();
    await pool?.end();
    await dropTopics(admin, Object.values(topics));
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  });

  it('both see every instance’s snapshots, each through a group of its own', async () => {
    const instances = Array.from({ length: 6 }, (_, i) => `bronze@scaleout-${i}-${uniqueName('i')}`);
    let round = 0;
    const send = () =>
      producer.send({
        topic: topics.metrics,
        messages: instances.map((instance) => {
          const s: MetricsSnapshot = {
            role: 'bronze',
            instance,
            at: Date.now(),
            counters: [sample(METRICS.bronze.rowsWritten, round * 10, { topic: 'raw' })],
            gauges: [],
          };
          return { key: instance, value: encodeSnapshot(s) };
        }),
      });
    // Each gateway reads from the latest offset once it has joined: send rounds until both count
    // every instance as fresh (a split group would leave one of them short for good).
    const seen = (c: ReturnType<typeof connect>) => c.live.at(-1)?.sources.metrics.instances ?? 0;
    await waitFor(
      async () => {
        round++;
        await send();
        return clients.every((c) => seen(c) === instances.length);
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: 'both gateways to count all 6 instances' },
    );
    // and both compute the same whole-pipeline rate from them (6 instances × 10 rows per round)
    const bronzeRate = (c: ReturnType<typeof connect>) =>
      c.live.at(-1)?.stages.find((s) => s.stage === 'bronze-written')?.ratePerSec ?? null;
    await waitFor(
      async () => {
        round++;
        await send();
        return clients.every((c) => (bronzeRate(c) ?? 0) > 0);
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'a bronze rate on both dashboards' },
    );

    const { groups } = await admin.listGroups();
    const feeds = groups.map((g) => g.groupId).filter((g) => g.startsWith('tributary.gateway.metrics.'));
    const mine = await admin.describeGroups(feeds);
    const reading = mine.groups.filter((g) =>
      g.members.some(
        (m) =>
          topics.metrics in (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}),
      ),
    );
    // two groups on this test's topic, one member each, although both gateways share an instance id
    expect(reading).toHaveLength(2);
    for (const g of reading) expect(g.members).toHaveLength(1);
  });
});
