import { Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type { EnrichmentJob, EnrichmentJobGold, Workspace } from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { consumeUntil, dropTopics } from '../support/kafka.ts';
import { createProcessorTopics, expectedGold, latestGold, processorTopics } from '../support/processor.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('processor-zombie'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();
const ENTRY = 'consumers/processor/process.ts';

/** The pino lines of a child's output with the given message. */
function logLines(proc: RoleProcess, msg: string): Array<Record<string, unknown>> {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {}; // a line cut by the output's chunking: the next full one says the same
      }
    });
}

const lastAssignment = (proc: RoleProcess): number[] | undefined =>
  logLines(proc, 'processor assignment').at(-1)?.partitions as number[] | undefined;

const goldEnd = async (topic: string) =>
  (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);

/**
 * A source that keeps changing while the test pauses a processor: every tick one transaction with
 * new jobs (and now and then a renamed workspace, which re-emits its jobs). A paused instance's
 * pending fetch is answered with some of it, so when it resumes it holds a batch of partitions it
 * no longer owns and tries to commit it.
 */
function createSource(topics: { workspaces: string; jobs: string }) {
  // 24 workspaces: every partition holds some ((2/3)^24 that one holds none), so every task has input.
  const workspaces = Array.from({ length: 24 }, (_, i) => workspace({ name: `ws-${i}`, updated_at: 1000 }));
  const published = { workspaces: [] as Workspace[], jobs: [] as EnrichmentJob[] };
  let producer: Producer | undefined;
  let ids: { ws: number; job: number } | undefined;
  let tick = 0;
  async function publish(ws: Workspace[], jobs: EnrichmentJob[]): Promise<void> {
    ids ??= {
      ws: await registerValueSchema(registry, topics.workspaces, 'workspace'),
      job: await registerValueSchema(registry, topics.jobs, 'enrichment-job'),
    };
    if (!producer) {
      producer = kafka.producer({
        transactionalId: uniqueName('test-zombie-source'),
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
    }
    const tx = await producer.transaction();
    const { ws: wsId, job: jobId } = ids;
    await tx.sendBatch({
      topicMessages: [
        {
          topic: topics.workspaces,
          messages: await Promise.all(
            ws.map(async (w) => ({ key: w.id, value: await registry.encode(wsId, w) })),
          ),
        },
        {
          topic: topics.jobs,
          messages: await Promise.all(
            jobs.map(async (j) => ({ key: j.workspace_id, value: await registry.encode(jobId, j) })),
          ),
        },
      ],
    });
    await tx.commit();
    published.workspaces.push(...ws);
    published.jobs.push(...jobs);
  }
  return {
    published,
    start: () => publish(workspaces, []),
    async tick() {
      tick++;
      const jobs = workspaces.map((w) => job({ workspace_id: w.id, updated_at: 100 + tick }));
      const renamed =
        tick % 5 === 0
          ? workspaces.slice(0, 3).map((w) => ({ ...w, name: `${w.name}-${tick}`, updated_at: 1000 + tick }))
          : [];
      await publish(renamed, jobs);
    },
    close: () => producer?.disconnect(),
  };
}

describe('a processor instance paused across a rebalance (a zombie)', () => {
  const { topics, env } = processorTopics();
  const childEnv = { ...inject('infraEnv'), ...env, TRIBUTARY_OPS_PORT: '0', TRIBUTARY_LOG_LEVEL: 'info' };
  const source = createSource(topics);
  const procs: RoleProcess[] = [];

  beforeAll(async () => {
    await admin.connect();
    await createProcessorTopics(admin, topics);
  });
  afterAll(async () => {
    for (const p of procs) {
      if (p.child.signalCode === null && p.child.exitCode === null) p.child.kill('SIGCONT');
      await p.kill9();
    }
    await source.close();
    await dropTopics(admin, Object.values(topics));
    await admin.disconnect();
  });

  // Two processes, two rebalances and a session timeout: 40 s on a quiet machine, 150 s at load 30.
  it('cannot commit after it lost its tasks: its transaction is refused and gold holds every version once', {
    timeout: 420_000,
  }, async () => {
    const show = (err: unknown) => {
      throw new Error(
        `${(err as Error).message}\n${procs.map((p, i) => `--- instance ${i}:\n${p.output()}`).join('\n')}`,
      );
    };
    await source.start();
    const a = spawnRole(ENTRY, { ...childEnv, TRIBUTARY_PROCESSOR_INSTANCE: 'a' });
    procs.push(a);
    await source.tick();
    await waitFor(async () => (await goldEnd(topics.gold)) > 0, {
      timeoutMs: 120_000,
      what: 'gold from a',
    }).catch(show);
    const b = spawnRole(ENTRY, { ...childEnv, TRIBUTARY_PROCESSOR_INSTANCE: 'b' });
    procs.push(b);
    // Both own tasks (the group has rebalanced) and both have restored and produced.
    await waitFor(
      async () => {
        await source.tick();
        const mineA = lastAssignment(a) ?? [];
        const mineB = lastAssignment(b) ?? [];
        return (
          mineA.length > 0 &&
          mineB.length > 0 &&
          mineA.length + mineB.length === 3 &&
          logLines(b, 'processor state restored').length > 0
        );
      },
      { timeoutMs: 120_000, intervalMs: 300, what: 'the tasks split between a and b' },
    ).catch(show);

    // Keep the source changing while a is paused: its pending fetch is answered with new records.
    // A periodic change, not a wait: a tick every 150 ms, the next one only once the last is applied.
    let ticking: Promise<void> = Promise.resolve();
    const ticker = setInterval(() => {
      ticking = ticking.then(() => source.tick());
    }, 150);
    const stopPublishing = async () => {
      clearInterval(ticker);
      await ticking;
    };
    try {
      a.child.kill('SIGSTOP');
      const stoppedAt = logLines(b, 'processor assignment').length;
      // a's session times out; the group gives b every task; b fences a's producers and produces.
      await waitFor(
        () => logLines(b, 'processor assignment').length > stoppedAt && lastAssignment(b)?.length === 3,
        { timeoutMs: 120_000, what: 'b to own every task' },
      ).catch(show);
      const before = await goldEnd(topics.gold);
      await waitFor(
        async () =>
          logLines(b, 'processor state restored').length > 1 && (await goldEnd(topics.gold)) > before + 20,
        { timeoutMs: 120_000, what: 'b to produce for every task' },
      ).catch(show);
      a.child.kill('SIGCONT');
      await waitFor(
        () =>
          logLines(
            a,
            'processor transaction refused: producer fenced, another instance owns this task now; its state is dropped',
          ).length > 0,
        { timeoutMs: 60_000, what: "a's transaction to be refused" },
      ).catch(show);
    } finally {
      await stopPublishing();
    }
    // The zombie carries on with what the group gives it: it rejoins, restores its new tasks and
    // processes the source's next change.
    const refusedAt = a.output().indexOf('processor transaction refused');
    await waitFor(() => a.output().indexOf('"msg":"processor assignment"', refusedAt) > 0, {
      timeoutMs: 120_000,
      what: 'a to rejoin the group',
    }).catch(show);
    await source.tick();
    await waitFor(() => a.output().indexOf('"msg":"processor state restored"', refusedAt) > 0, {
      timeoutMs: 120_000,
      what: 'a to restore the tasks it was given',
    }).catch(show);

    const expected = expectedGold(source.published.workspaces, source.published.jobs);
    const gold = await consumeUntil(
      kafka,
      [topics.gold],
      (r) => {
        const latest = latestGold(r);
        return [...expected].every(([k, v]) => JSON.stringify(latest.get(k)) === JSON.stringify(v));
      },
      { registry, timeoutMs: 180_000 },
    ).catch(show);
    expect(latestGold(gold)).toEqual(expected);
    const emitted = gold
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(emitted.length - new Set(emitted).size).toBe(0); // no version emitted twice
    expect(await b.stop()).toBe(0);
    expect(await a.stop()).toBe(0);
  });
});
