import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { bronzeRole } from '../../consumers/bronze/role.ts';
import {
  decodeSnapshot,
  type MetricsSnapshot,
  REPLAY_METRICS,
  sampleSum,
} from '../../contracts/metrics/index.ts';
import { applyReplay, planReplay } from '../../ops/replay.ts';
import { parseReplayTarget } from '../../ops/replay-target.ts';
import type { RunningRole } from '../../runtime/role.ts';
import { startRoleFromEnv } from '../../runtime/start-role.ts';
import { FAST_GROUP_ENV, silentLogger } from '../support/consumer-fixtures.ts';
import { workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, createTopics, dropTopics, groupCaughtUp } from '../support/kafka.ts';
import { runCli, startCli } from '../support/ops-cli.ts';
import { publishRaw } from '../support/processor.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('ops-replay-test'), testLogger);
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
const topics: string[] = [];

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  await dropTopics(admin, topics);
  await admin.disconnect();
  for (const t of topics) await pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [t]);
  await pool.end();
});

describe('tributary replay', () => {
  it('moves a group to the first record at or after a timestamp, and refuses while the group has members', async () => {
    const topic = uniqueName('ops-replay-ts');
    const group = uniqueName('ops-replay-ts-group');
    topics.push(topic);
    await createTopics(admin, [{ topic, partitions: 2 }]);
    // Recent timestamps: Kafka's time retention (7 days here) deletes records by their timestamps,
    // even from the active segment, so records dated long ago could vanish mid-test.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 3600_000;
    const minute = (n: number) => new Date(t0 + n * 60_000).toISOString();
    // Partition 0 holds minutes 0..4, partition 1 minutes 5..9: at minute 3, p0 starts at offset 3
    // and p1 at its first record; at minute 7, p0 is past its end and p1 starts at offset 2.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        partition: i < 5 ? 0 : 1,
        timestamp: String(t0 + i * 60_000),
      })),
    });
    await producer.disconnect();

    // A member of the group that has read everything: replay must refuse and name it.
    const consumer = kafka.consumer({ groupId: group });
    let read = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        read++;
      },
    });
    try {
      await waitFor(async () => read === 10 && (await groupCaughtUp(admin, group, [topic])), {
        timeoutMs: 60_000,
        what: 'the test consumer to commit the end of the topic',
      });
      const refused = await runCli(['replay', '--group', group, '--to', minute(3), '--no-wait']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`consumer group ${group} has 1 active member`));
      expect(refused.stderr).toMatch(/--stop-members/);
    } finally {
      await consumer.disconnect();
    }

    const replay = await runCli(['replay', '--group', group, '--to', minute(3), '--no-wait', '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    const summary = JSON.parse(replay.stdout);
    expect(summary).toMatchObject({ partitionsMoved: 2, messagesToReprocess: 7 });
    expect(summary.moves).toEqual([
      { topic, partition: 0, from: '5', to: '3', low: '0', high: '5' },
      { topic, partition: 1, from: '5', to: '0', low: '0', high: '5' },
    ]);
    expect(await committed(group, topic)).toEqual({ 0: '3', 1: '0' });

    // The same core in-process (no CLI start-up): past the end of one partition, explicit offsets,
    // and an offset outside the partition.
    const later = await planReplay(admin, group, parseReplayTarget(minute(7)));
    await applyReplay(admin, later);
    expect(later.toReprocess).toBe(3);
    expect(await committed(group, topic)).toEqual({ 0: '5', 1: '2' });
    await applyReplay(admin, await planReplay(admin, group, parseReplayTarget(`${topic}:1:4`)));
    expect(await committed(group, topic)).toEqual({ 0: '5', 1: '4' });
    await expect(planReplay(admin, group, parseReplayTarget(`${topic}:1:9`))).rejects.toThrow(
      /offset 9 is outside .*holds offsets 0 to 5/,
    );

    const bad = await runCli(['replay', '--group', group, '--to', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not earliest, latest, an ISO timestamp/);
    await admin.deleteGroups([group]).catch(() => {});
  });

  it('replays a bronze group from the earliest offset without adding a row, publishing progress while it drains', async () => {
    const ws = uniqueName('ops-replay.raw.workspaces');
    const jobs = uniqueName('ops-replay.raw.jobs');
    const metricsTopic = uniqueName('ops-replay.metrics');
    topics.push(ws, jobs, `dlq.${ws}`, `dlq.${jobs}`, metricsTopic);
    await createTopics(admin, [
      { topic: ws },
      { topic: jobs },
      { topic: `dlq.${ws}`, partitions: 1 },
      { topic: `dlq.${jobs}`, partitions: 1 },
      { topic: metricsTopic, partitions: 1 },
    ]);
    const group = uniqueName('ops-replay-bronze-ws');
    const env = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_RAW_WORKSPACES_TOPIC: ws,
      TRIBUTARY_RAW_JOBS_TOPIC: jobs,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: group,
      TRIBUTARY_BRONZE_ENRICHMENT_JOBS_GROUP: uniqueName('ops-replay-bronze-jobs'),
      TRIBUTARY_METRICS_TOPIC: metricsTopic,
    };
    const records = Array.from({ length: 12 }, (_, i) => workspace({ updated_at: Date.UTC(2026, 0, 1) + i }));
    await publishRaw(
      kafka,
      registry,
      { workspaces: ws, jobs },
      records.map((w) => ({ workspace: w })),
    );
    const rows = async () =>
      Number(
        (await pool.query('SELECT count(*) AS n FROM bronze.workspaces WHERE topic = $1', [ws])).rows[0].n,
      );

    let bronze: RunningRole | undefined = await startRoleFromEnv(bronzeRole, {
      infra,
      env,
      logger: silentLogger,
    });
    try {
      await waitFor(async () => (await rows()) === 12 && (await groupCaughtUp(admin, group, [ws])), {
        timeoutMs: 90_000,
        what: 'bronze to write the 12 workspaces and commit',
      });
      await bronze.close();
      bronze = undefined;

      const replay = startCli(['replay', '--group', group, '--to', 'earliest', '--wait-timeout', '150'], env);
      await replay.waitForOutput(/waiting for .* to run again/);
      // The replay reports its whole backlog while the group is stopped…
      const before = await consumeUntil(kafka, [metricsTopic], (r) => replaySnapshots(r, group).length > 0);
      const gauge = (s: MetricsSnapshot, metric: typeof REPLAY_METRICS.lag) =>
        sampleSum(s.gauges, metric, { group });
      const total = gauge(replaySnapshots(before, group)[0]!, REPLAY_METRICS.total);
      expect(total).toBeGreaterThanOrEqual(12); // 12 records, plus the transaction's commit markers
      expect(gauge(replaySnapshots(before, group)[0]!, REPLAY_METRICS.lag)).toBe(total);

      // …and drains to 0 once bronze runs again.
      bronze = await startRoleFromEnv(bronzeRole, { infra, env, logger: silentLogger });
      expect(await replay.exited, replay.stderr()).toBe(0);
      expect(replay.stdout()).toMatch(/to reprocess: all reprocessed/);
      const after = await consumeUntil(kafka, [metricsTopic], (r) =>
        replaySnapshots(r, group).some((s) => gauge(s, REPLAY_METRICS.lag) === 0),
      );
      const lags = replaySnapshots(after, group).map((s) => gauge(s, REPLAY_METRICS.lag));
      expect(lags[0]).toBe(total);
      expect(lags.at(-1)).toBe(0);
      expect(await rows()).toBe(12);
      expect(await groupCaughtUp(admin, group, [ws])).toBe(true);
    } finally {
      await bronze?.close();
    }
  });
});

function replaySnapshots(
  records: Array<{ message: { value: Buffer | null } }>,
  group: string,
): MetricsSnapshot[] {
  return records
    .flatMap((r) => decodeSnapshot(r.message.value) ?? [])
    .filter((s) => s.role === 'replay' && sampleSum(s.gauges, REPLAY_METRICS.total, { group }) !== undefined);
}

async function committed(group: string, topic: string): Promise<Record<number, string>> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Object.fromEntries((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
}
