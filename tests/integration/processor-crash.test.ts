import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import type {
  EnrichmentJob,
  EnrichmentJobGold,
  JobStatus,
  Workspace,
} from '../../schemas/generated/types.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
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

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('processor-crash'), testLogger);
const registry = createSchemaRegistry(infra.registry);
const admin = kafka.admin();
const ENTRY = 'consumers/processor/process.ts';

/** A history of versions: workspaces renamed, jobs moving forward, in per-entity order. */
function history(nWorkspaces: number, jobsPerWorkspace: number) {
  const workspaces: Workspace[] = [];
  const jobs: EnrichmentJob[] = [];
  const steps: JobStatus[] = ['queued', 'processing', 'completed'];
  for (let w = 0; w < nWorkspaces; w++) {
    const ws = workspace({ name: `ws-${w}`, updated_at: 1000 });
    workspaces.push(ws, { ...ws, name: `ws-${w}-renamed`, updated_at: 5000 });
    for (let j = 0; j < jobsPerWorkspace; j++) {
      const base = job({ workspace_id: ws.id, requested_count: 10, updated_at: 100 });
      steps.forEach((status, i) => {
        const done = status === 'completed';
        jobs.push({
          ...base,
          status,
          enriched_count: i * 4,
          updated_at: 100 + i * 2000,
          finished_at: done ? 100 + i * 2000 : null,
        });
      });
    }
  }
  return { workspaces, jobs };
}

async function goldOffsetSum(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

describe('stream processor under kill -9', () => {
  const { topics, env } = processorTopics();
  const childEnv = { ...inject('infraEnv'), ...env };
  let proc: RoleProcess | undefined;

  beforeAll(async () => {
    await admin.connect();
    await createProcessorTopics(admin, topics);
  });
  afterAll(async () => {
    await proc?.kill9();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect();
  });

  it('loses nothing and duplicates nothing in gold across repeated crashes', async () => {
    const { workspaces, jobs } = history(12, 6);
    // Interleave: jobs of a workspace often come before it; versions of each entity stay in order.
    const records = [
      ...jobs.filter((_, i) => i % 3 === 0).map((j) => ({ job: j })),
      ...workspaces.filter((w) => w.updated_at === 1000).map((w) => ({ workspace: w })),
      ...jobs.filter((_, i) => i % 3 === 1).map((j) => ({ job: j })),
      ...workspaces.filter((w) => w.updated_at === 5000).map((w) => ({ workspace: w })),
      ...jobs.filter((_, i) => i % 3 === 2).map((j) => ({ job: j })),
    ];
    const chunks = [
      records.slice(0, 80),
      records.slice(80, 160),
      records.slice(160, 240),
      records.slice(240),
    ];

    const opsPort = await freePort();
    const start = () => spawnRole(ENTRY, { ...childEnv, TRIBUTARY_OPS_PORT: String(opsPort) });
    proc = start();
    for (const chunk of chunks.slice(0, 3)) {
      const before = await goldOffsetSum(topics.gold);
      await publishRaw(kafka, registry, topics, chunk);
      // Kill at a random point while this chunk is being processed.
      const threshold = before + 1 + Math.floor(Math.random() * 20);
      await waitFor(async () => (await goldOffsetSum(topics.gold)) >= threshold, {
        timeoutMs: 120_000,
        what: 'the processor to make progress',
      }).catch((err) => {
        throw new Error(`${(err as Error).message}\nprocessor output:\n${proc?.output()}`);
      });
      await proc.kill9();
      proc = start();
    }
    await publishRaw(kafka, registry, topics, chunks[3]!);

    const expected = expectedGold(workspaces, jobs);
    const gold = await consumeUntil(
      kafka,
      [topics.gold],
      (r) => {
        const latest = latestGold(r);
        return [...expected].every(([k, v]) => JSON.stringify(latest.get(k)) === JSON.stringify(v));
      },
      { registry, timeoutMs: 180_000 },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\nprocessor output:\n${proc?.output()}`);
    });
    expect(latestGold(gold)).toEqual(expected);
    const emitted = gold
      .map((r) => r.value as EnrichmentJobGold)
      .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
    expect(new Set(emitted).size).toBe(emitted.length);
    // The process serves its health and the role's metrics.
    const ops = `http://127.0.0.1:${opsPort}`;
    await waitFor(async () => (await fetch(`${ops}/readyz`)).ok, {
      timeoutMs: 30_000,
      what: 'the process to be ready',
    });
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toMatch(/^tributary_processor_gold_records_total\{role="processor"\} \d+/m);
    expect(await proc.stop()).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
