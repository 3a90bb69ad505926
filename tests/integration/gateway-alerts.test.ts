import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { AlertsSnapshot } from '../../gateway/alerts/schemas.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { startTestGateway, testTopologyEnv } from '../../gateway/testing.ts';
import {
  avroEncoder,
  createTopics,
  FAST_GROUP_ENV,
  goldRecord,
  groupCaughtUp,
  metricsTopicOf,
  type RoleProcess,
  spawnRoleProcess,
} from '../support/consumer-fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { dropTopics } from '../support/kafka.ts';
import { runCli } from '../support/ops-cli.ts';

/**
 * The lag alert end to end, against real servers: a gold sink that stops makes its group's lag
 * (in seconds) cross the rule's threshold, the gateway fires the alert to two real HTTP receivers
 * (the generic JSON one and a Slack-shaped one that refuses the first delivery, so it is retried),
 * and once the sink is back and caught up the alert resolves. Each receiver accepts exactly one
 * firing and one resolved message, also after several more evaluations.
 */
const infra = testInfra();
const T = Date.UTC(2026, 3, 1);

interface Received {
  path: string;
  status: number;
  body: Record<string, unknown>;
}

async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let slackRefused = false;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => {
      text += d;
    });
    req.on('end', () => {
      // the Slack-shaped hook refuses its first delivery: the gateway must retry it
      const status = req.url === '/slack' && !slackRefused ? 503 : 200;
      if (status === 503) slackRefused = true;
      received.push({ path: req.url ?? '', status, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}`, received };
}

describe('gateway alerts', () => {
  const kafka = createKafka(infra.kafka, uniqueName('alerts-test'), testLogger);
  const admin = kafka.admin();
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const topic = uniqueName('gold.enrichment-jobs-alerts');
  const dlq = `dlq.${topic}`;
  const group = uniqueName('gold-alerts-pg');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-alerts-'));
  const jobIds: string[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let gateway: Gateway | undefined;
  let sink: RoleProcess | undefined;

  afterAll(async () => {
    await sink?.kill9();
    await gateway?.close();
    await new Promise((resolve) => receiver?.server.close(resolve) ?? resolve(undefined));
    await admin.deleteGroups([group]).catch(() => {}); // the group may be gone already: nothing to clean
    await dropTopics(admin, [topic, dlq, metricsTopicOf(topic)]);
    await admin.disconnect();
    await pool.query('DELETE FROM gold.enrichment_jobs WHERE job_id = ANY($1::uuid[])', [jobIds]);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires the lag alert when a gold sink stops and resolves it after it restarts, once each per webhook', async () => {
    await admin.connect();
    await createTopics(admin, [topic, dlq, metricsTopicOf(topic)]);
    receiver = await startReceiver();
    const rules = join(dir, 'alerts.yaml');
    writeFileSync(
      rules,
      [
        'rules:',
        '  - name: gold-lag',
        '    kind: consumer-lag',
        `    group: ${group}`,
        '    above: 3',
        '    for: 2',
        'webhooks:',
        '  - name: receiver',
        `    url: ${receiver.url}/hook`,
        '  - name: chat',
        `    url: ${receiver.url}/slack`,
        '    format: slack',
      ].join('\n'),
    );

    const { encode } = await avroEncoder(createSchemaRegistry(infra.registry), topic, 'enrichment-job-gold');
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const publish = async (n: number) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      jobIds.push(...ids);
      const messages = await Promise.all(
        ids.map(async (id) => ({ key: id, value: await encode(goldRecord(id, T, T)) })),
      );
      await producer.send({ topic, acks: -1, messages });
    };
    const sinkEnv = {
      ...FAST_GROUP_ENV,
      TRIBUTARY_METRICS_TOPIC: metricsTopicOf(topic),
      TRIBUTARY_GOLD_TOPIC: topic,
      TRIBUTARY_GOLD_SINKS: 'postgres',
      TRIBUTARY_GOLD_POSTGRES_GROUP: group,
    };
    const caughtUp = (what: string) =>
      waitFor(() => groupCaughtUp(admin, group, topic), {
        timeoutMs: 120_000,
        what: `${what} (sink: ${sink?.output()})`,
      });
    const alerts = async () => (await (await fetch(`${gateway!.url}/api/alerts`)).json()) as AlertsSnapshot;

    try {
      await publish(30);
      sink = spawnRoleProcess('consumers/gold-sinks/process.ts', sinkEnv);
      await caughtUp('the sink to write the first records');
      gateway = await startTestGateway(infra, {
        TRIBUTARY_ALERTS_FILE: rules,
        TRIBUTARY_GATEWAY_TICK_MS: '500',
        TRIBUTARY_GATEWAY_LAG_GROUPS: group,
        // no raw topic of its own (one that does not exist), the sink's dead letters in dlq.<gold>
        ...testTopologyEnv({ raw: uniqueName('no-raw'), gold: topic, dlq, metrics: metricsTopicOf(topic) }),
      });
      // the gateway sees the group caught up before anything happens
      await waitFor(
        async () => {
          const a = await alerts();
          return a.evaluatedAt !== null && a.active.length === 0 && gateway!.app && a;
        },
        { timeoutMs: 60_000, what: 'a first evaluation with nothing active' },
      );
      const metricsText = async () => (await fetch(`${gateway!.url}/metrics`)).text();
      await waitFor(
        async () => (await metricsText()).includes(`kafka_consumergroup_lag{consumergroup="${group}"`),
        {
          timeoutMs: 60_000,
          what: 'the lag gauges of the group on /metrics',
        },
      );

      expect(await sink.stop()).toBe(0);
      await publish(20);
      // both webhooks got it, the Slack one after a refused first attempt
      await waitFor(
        () =>
          receiver!.received.some((r) => r.path === '/hook' && r.body.status === 'firing') &&
          receiver!.received.some(
            (r) => r.path === '/slack' && r.status === 200 && String(r.body.text).includes('FIRING'),
          ),
        { timeoutMs: 90_000, what: 'the firing alert at both hooks' },
      );
      const during = await alerts();
      expect(during.active).toEqual([
        expect.objectContaining({ state: 'firing', rule: 'gold-lag', kind: 'consumer-lag', subject: group }),
      ]);
      // the operator's view of it
      const cli = await runCli(['alerts', '--url', gateway.url]);
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(1); // an alert fires
      expect(cli.stdout).toMatch(/^1 alert FIRING\n/);
      expect(cli.stdout).toContain(group.slice(0, 20));
      expect(cli.stdout).toMatch(/gold-lag .*consumer-lag .*above 3 s for 2 s/);
      const lagLines = (await metricsText())
        .split('\n')
        .filter((l) => l.startsWith(`kafka_consumergroup_lag{consumergroup="${group}",topic="${topic}"`));
      expect(lagLines).toHaveLength(3); // one per partition
      expect(lagLines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)).toBe(20);

      sink = spawnRoleProcess('consumers/gold-sinks/process.ts', sinkEnv);
      await caughtUp('the restarted sink to catch up');
      const resolved = await waitFor(
        async () => {
          const a = await alerts();
          return a.history[0]?.state === 'resolved' ? a.history[0] : undefined;
        },
        { timeoutMs: 60_000, what: 'the alert to resolve' },
      );
      // a few more evaluations after the resolution: nothing is sent again
      await waitFor(
        async () => Date.parse((await alerts()).evaluatedAt!) > Date.parse(resolved.resolvedAt!) + 2000,
        {
          timeoutMs: 30_000,
          what: 'evaluations after the resolution',
        },
      );
      await waitFor(() => receiver!.received.filter((r) => r.status === 200).length >= 4, {
        timeoutMs: 60_000,
        what: `both resolutions delivered (got ${JSON.stringify(receiver!.received)})`,
      });
    } finally {
      await producer.disconnect();
    }

    const accepted = (path: string) => receiver!.received.filter((r) => r.path === path && r.status === 200);
    const hook = accepted('/hook').map((r) => r.body);
    expect(hook.map((b) => b.status)).toEqual(['firing', 'resolved']);
    expect(hook[0]).toMatchObject({
      rule: 'gold-lag',
      kind: 'consumer-lag',
      subject: group,
      fingerprint: `gold-lag/${group}`,
      threshold: 3,
      forSeconds: 2,
      resolvedAt: null,
      dashboardUrl: `${gateway!.url}/`,
    });
    expect(String(hook[0]!.summary)).toMatch(
      new RegExp(`^group ${group} is \\d+\\+? s behind \\(\\d+ messages\\)$`),
    );
    expect(hook[1]).toMatchObject({
      id: hook[0]!.id,
      firedAt: hook[0]!.firedAt,
      summary: expect.stringMatching(/ is 0 s behind \(0 messages\)/),
    });
    expect(Date.parse(String(hook[1]!.resolvedAt))).toBeGreaterThan(Date.parse(String(hook[1]!.firedAt)));

    const slack = accepted('/slack').map((r) => r.body as { text: string; blocks: unknown[] });
    expect(slack.map((b) => b.text.split(' ').slice(0, 3).join(' '))).toEqual([
      ':rotating_light: FIRING gold-lag',
      ':white_check_mark: RESOLVED gold-lag',
    ]);
    expect(slack[0]!.blocks).toHaveLength(2);
    expect(receiver!.received.filter((r) => r.path === '/slack' && r.status !== 200)).toHaveLength(1);

    const after = await alerts();
    expect(after.active).toEqual([]);
    expect(after.history).toHaveLength(1);
    expect(after.webhooks).toEqual([
      { name: 'receiver', format: 'json', delivered: 2, failed: 0, lastError: null },
      { name: 'chat', format: 'slack', delivered: 2, failed: 0, lastError: null },
    ]);
  }, 300_000); // two role starts, a CLI run and the waits, on a loaded machine
});
