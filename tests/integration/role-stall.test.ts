import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { taskTransactionalId } from '../../consumers/processor/tasks.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import {
  avroEncoder,
  createTopics,
  FAST_GROUP_ENV,
  pollerHeaders,
  workspaceRecord,
} from '../support/consumer-fixtures.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil } from '../support/kafka.ts';
import {
  createProcessorTopics,
  expectedGold,
  latestGold,
  processorTopics,
  publishRaw,
} from '../support/processor.ts';
import { startTcpProxy, type TcpProxy, throughProxy } from '../support/tcp-proxy.ts';

/**
 * Roles that cannot make progress say so, and recover: a bronze writer whose database goes away
 * (through a proxy the test owns, so the shared Postgres stays up) turns its process's /readyz red
 * with the reason, and green again once the database is back, with every record written once; a
 * processor whose transaction the broker refuses for good (its producer fenced) crashes in a way
 * kafkajs does not restart from, and comes back by itself.
 */
const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('role-stall'), testLogger);
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const STALL_AFTER_MS = 4000;

interface Readyz {
  status: string;
  roles: Record<string, { stalled: boolean; reason?: string; restarting?: boolean; restarts?: number }>;
}

/** The process's ops URL, from its start-up log line (its port is picked by the OS). */
async function opsUrlOf(proc: RoleProcess): Promise<string> {
  return waitFor(() => /health and metrics at (http:\/\/[^/\s"]+)\/healthz/.exec(proc.output())?.[1], {
    timeoutMs: 90_000,
    what: `the process to start (output: ${proc.output()})`,
  });
}

async function readyz(url: string): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`${url}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('a role whose database goes away', () => {
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const topic = uniqueName('raw.workspaces-stall');
  const topics = [topic, `dlq.${topic}`, `${topic}.metrics`];
  let proxy: TcpProxy | undefined;
  let proc: RoleProcess | undefined;
  afterAll(async () => {
    await proc?.kill9();
    await proxy?.close();
    await admin.deleteTopics({ topics }).catch(() => {});
    await pool.query('DELETE FROM bronze.workspaces WHERE topic = $1', [topic]);
    await pool.end();
  });

  const count = async () =>
    Number(
      (await pool.query('SELECT count(*) AS n FROM bronze.workspaces WHERE topic = $1', [topic])).rows[0].n,
    );

  it('turns /readyz red naming the database within the stall limit, and green with every row once after', async () => {
    await createTopics(admin, topics);
    const { encode } = await avroEncoder(registry, topic, 'workspace');
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    const publish = async (n: number) => {
      const messages = await Promise.all(
        Array.from({ length: n }, async () => {
          const w = workspaceRecord();
          return { key: w.id, value: await encode(w), headers: pollerHeaders() };
        }),
      );
      await producer.send({ topic, acks: -1, messages });
    };
    await producer.connect();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: infra.postgres.port });
    try {
      await publish(300);
      proc = spawnRole('consumers/bronze/process.ts', {
        ...inject('infraEnv'),
        ...FAST_GROUP_ENV,
        TRIBUTARY_LOG_LEVEL: 'info',
        TRIBUTARY_POSTGRES_URL: throughProxy(infra.postgres.url, proxy),
        TRIBUTARY_STALL_AFTER_MS: String(STALL_AFTER_MS),
        TRIBUTARY_STALL_RESTART_MS: '0', // this test watches the role recover by itself
        TRIBUTARY_METRICS_TOPIC: `${topic}.metrics`,
        TRIBUTARY_BRONZE_TOPICS: 'workspaces',
        TRIBUTARY_RAW_WORKSPACES_TOPIC: topic,
        TRIBUTARY_BRONZE_WORKSPACES_GROUP: uniqueName('bronze-stall'),
        TRIBUTARY_BRONZE_BATCH_SIZE: '50',
      });
      const running = proc;
      const ops = await opsUrlOf(proc);
      await waitFor(async () => (await count()) === 300 && (await readyz(ops)).code === 200, {
        timeoutMs: 90_000,
        what: `300 rows and a ready process (output: ${running.output()})`,
      });

      await proxy.close(); // the database is gone for the role
      const downAt = Date.now();
      await publish(200);
      const stalled = await waitFor(
        async () => {
          const r = await readyz(ops);
          return r.code === 503 && r.body.roles.bronze?.stalled ? r.body : undefined;
        },
        { timeoutMs: STALL_AFTER_MS + 30_000, intervalMs: 250, what: `/readyz to say bronze is stalled` },
      );
      const seconds = (Date.now() - downAt) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(STALL_AFTER_MS / 1000);
      expect(stalled.status).toBe('not ready');
      expect(stalled.roles.bronze?.reason).toMatch(
        new RegExp(
          `^group .+ \\(${topic}\\): no batch committed for \\d+ s with [\\d,]+ messages waiting; ` +
            `last error: Postgres: .*(ECONNREFUSED|terminated|Connection)`,
        ),
      );
      const metrics = await (await fetch(`${ops}/metrics`)).text();
      expect(metrics).toContain('tributary_role_stalled{role="bronze"} 1');
      expect(metrics).toMatch(/tributary_role_stall_info\{reason="group .+Postgres: .+",role="bronze"\} 1/);

      await proxy.open(); // the database is back
      await waitFor(async () => (await readyz(ops)).code === 200 && (await count()) === 500, {
        timeoutMs: 90_000,
        what: `a ready process and 500 rows after the database came back (output: ${running.output()})`,
      });
      expect((await readyz(ops)).body).toEqual({ status: 'ready', roles: { bronze: { stalled: false } } });
      expect(await proc.stop()).toBe(0);
    } finally {
      await producer.disconnect();
    }
    // exactly once: every offset of every partition, none twice
    const { rows } = await pool.query(
      `SELECT partition, count(*)::int AS n, count(DISTINCT "offset")::int AS distinct_offsets
         FROM bronze.workspaces WHERE topic = $1 GROUP BY partition ORDER BY partition`,
      [topic],
    );
    const ends = await admin.fetchTopicOffsets(topic);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(500);
    for (const r of rows) {
      const high = Number(ends.find((e) => e.partition === r.partition)!.high);
      expect(r).toEqual({ partition: r.partition, n: high, distinct_offsets: high });
    }
  });

  it('exits with code 3 when it stays stalled past the restart limit in a one-role process', async () => {
    const down = await startTcpProxy({ host: '127.0.0.1', port: infra.postgres.port });
    await down.close(); // never up: the role cannot write anything
    const { encode } = await avroEncoder(registry, topic, 'workspace');
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const w = workspaceRecord();
    await producer.send({
      topic,
      messages: [{ key: w.id, value: await encode(w), headers: pollerHeaders() }],
    });
    await producer.disconnect();
    const p = spawnRole('consumers/bronze/process.ts', {
      ...inject('infraEnv'),
      ...FAST_GROUP_ENV,
      TRIBUTARY_POSTGRES_URL: throughProxy(infra.postgres.url, down),
      TRIBUTARY_STALL_AFTER_MS: '2000',
      TRIBUTARY_STALL_RESTART_MS: '5000',
      TRIBUTARY_METRICS_TOPIC: `${topic}.metrics`,
      TRIBUTARY_BRONZE_TOPICS: 'workspaces',
      TRIBUTARY_RAW_WORKSPACES_TOPIC: topic,
      TRIBUTARY_BRONZE_WORKSPACES_GROUP: uniqueName('bronze-stuck'),
    });
    try {
      const code = await waitFor(() => p.child.exitCode ?? undefined, {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: `the stuck process to exit (output: ${p.output()})`,
      });
      expect(code).toBe(3);
      expect(p.output()).toMatch(/bronze stalled for \d+ s: group .+Postgres: .+exiting with code 3/);
    } finally {
      await p.kill9();
    }
  });
});

describe('a processor whose transactions the broker refuses for good', () => {
  const { topics, env } = processorTopics();
  const instance = 'fenced-0';
  let proc: RoleProcess | undefined;
  afterAll(async () => {
    await proc?.kill9();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
  });

  it('is restarted by our code after the crash kafkajs does not restart from, and loses nothing', async () => {
    await createProcessorTopics(admin, topics);
    const workspaces = Array.from({ length: 6 }, (_, i) => workspace({ name: `ws-${i}`, updated_at: 1000 }));
    const jobs = workspaces.flatMap((w) =>
      Array.from({ length: 5 }, () => job({ workspace_id: w.id, status: 'queued', updated_at: 100 })),
    );
    await publishRaw(kafka, registry, topics, [
      ...workspaces.map((w) => ({ workspace: w })),
      ...jobs.map((j) => ({ job: j })),
    ]);
    proc = spawnRole('consumers/processor/process.ts', {
      ...inject('infraEnv'),
      ...env,
      TRIBUTARY_LOG_LEVEL: 'info',
      TRIBUTARY_PROCESSOR_INSTANCE: instance,
      TRIBUTARY_STALL_AFTER_MS: '60000',
    });
    const running = proc;
    const ops = await opsUrlOf(proc);
    await consumeUntil(kafka, [topics.gold], (r) => r.length >= jobs.length, { timeoutMs: 120_000 }).catch(
      (err) => {
        throw new Error(`${(err as Error).message}\nprocessor output:\n${running.output()}`);
      },
    );

    // Other producers with the processor's transactional ids (one per task) fence it: its next
    // transaction fails with INVALID_PRODUCER_EPOCH, which kafkajs does not retry, and its consumer
    // crashes for good.
    for (const partition of [0, 1, 2]) {
      const fencer = kafka.producer({
        transactionalId: taskTransactionalId(env.TRIBUTARY_PROCESSOR_GROUP, partition),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await fencer.connect();
      await (await fencer.transaction()).abort(); // the first transaction's InitProducerId bumps the epoch
      await fencer.disconnect();
    }
    const later = jobs.map((j) => ({
      ...j,
      status: 'processing' as const,
      enriched_count: 3,
      updated_at: 2000,
    }));
    await publishRaw(
      kafka,
      registry,
      topics,
      later.map((j) => ({ job: j })),
    );

    const expected = expectedGold(workspaces, [...jobs, ...later]);
    const gold = await consumeUntil(
      kafka,
      [topics.gold],
      (r) => {
        const latest = latestGold(r);
        return [...expected].every(([k, v]) => JSON.stringify(latest.get(k)) === JSON.stringify(v));
      },
      { registry, timeoutMs: 150_000 },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\nprocessor output:\n${running.output()}`);
    });
    expect(latestGold(gold)).toEqual(expected);
    const emitted = gold
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length); // exactly once
    expect(proc.output()).toContain('consumer crashed and kafkajs will not restart it; restarting it');
    expect(proc.output()).toContain('consumer restarted');
    expect(proc.output()).toMatch(/kafkajs: Crash: KafkaJS\w+/); // kafkajs' own log line reached ours
    await waitFor(async () => (await readyz(ops)).code === 200, {
      timeoutMs: 30_000,
      what: 'a ready processor',
    });
    expect(await proc.stop()).toBe(0);
  });
});
