import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { startTestGateway } from '../../gateway/testing.ts';
import type { JobLineage, VersionTrace } from '../../lineage/types.ts';
import { runCli } from '../support/ops-cli.ts';
import { usePipelineRun } from '../support/pipeline-run.ts';
import { readCommitted } from '../support/poller-harness.ts';

/**
 * `tributary trace` and GET /api/jobs/{id}/lineage on a real pipeline (mock source with malformed
 * versions, every role in its own process): for a job that went through several versions and was
 * re-emitted by a workspace update, every hop of every version is there, in time order, the gold
 * records are exactly the job's records on the gold topic, and its dead letters carry their reasons.
 */
interface GoldSeen {
  offset: string;
  partition: number;
  ju: number;
  wu: number | null;
}

describe('lineage trace', () => {
  const run = usePipelineRun('lineage', {
    TRIBUTARY_MOCK_SOURCE_TICK_MS: '200',
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '30',
    TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.2',
  });
  let gateway: Gateway | undefined;
  afterAll(() => gateway?.close());

  it('shows every hop of every version of a job, in time order, with its dead letters', async () => {
    const { topics, kafka, registry, pool, mongo, collection } = run;
    const source = run.source!;
    const env = run.env(source.url);
    run.startAll(env);
    const output = run.roles.output;

    // The gold topic says which jobs were re-emitted by a workspace update after a job update: wait
    // for one that also has a dead letter (a malformed version the pollers refused).
    const goldOf = async () => {
      const byJob = new Map<string, GoldSeen[]>();
      const records = (await readCommitted(kafka, [topics.gold], 30_000)).sort(
        (x, y) => x.partition - y.partition || Number(BigInt(x.message.offset) - BigInt(y.message.offset)),
      );
      for (const r of records) {
        const v = (await registry.decode(r.message.value!)) as {
          job_id: string;
          job_updated_at: number;
          workspace_updated_at: number | null;
        };
        const list = byJob.get(v.job_id) ?? [];
        list.push({
          offset: r.message.offset,
          partition: r.partition,
          ju: v.job_updated_at,
          wu: v.workspace_updated_at,
        });
        byJob.set(v.job_id, list);
      }
      return byJob;
    };
    const interesting = (seen: GoldSeen[]) =>
      new Set(seen.map((g) => g.ju)).size >= 2 &&
      seen.some((g, i) => i > 0 && seen[i - 1]!.ju === g.ju && seen[i - 1]!.wu !== g.wu);
    let jobId = '';
    await waitFor(
      async () => {
        const letters = (await readCommitted(kafka, [topics.dlqJobs], 30_000)).map((r) =>
          String(r.message.value),
        );
        for (const [id, seen] of await goldOf()) {
          if (interesting(seen) && letters.some((l) => l.includes(id))) {
            jobId = id;
            return true;
          }
        }
        return false;
      },
      {
        timeoutMs: 240_000,
        intervalMs: 2000,
        what: 'a job with versions, a workspace update and a dead letter',
      },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output()}`);
    });
    await source.handle.pause();

    // Converged for this job: bronze holds every valid version of it and of its workspace, and both
    // stores hold the gold record of the latest ones.
    const valid = async (api: 'workspaces' | 'enrichment-jobs', id: string) =>
      (await source.versions(api)).valid
        .filter((v) => v.startsWith(`${id}@`))
        .map((v) => Number(v.slice(id.length + 1)));
    const workspaceId = (
      await pool.query(
        'select workspace_id::text as w from bronze.enrichment_jobs where id = $1 and topic = $2 limit 1',
        [jobId, topics.rawJobs],
      )
    ).rows[0].w as string;
    const jobVersions = await valid('enrichment-jobs', jobId);
    const wsVersions = await valid('workspaces', workspaceId);
    const count = async (table: string, id: string, topic: string) =>
      Number(
        (
          await pool.query(`select count(*)::int as n from ${table} where id = $1 and topic = $2`, [
            id,
            topic,
          ])
        ).rows[0].n,
      );
    await waitFor(
      async () =>
        (await count('bronze.enrichment_jobs', jobId, topics.rawJobs)) === jobVersions.length &&
        (await count('bronze.workspaces', workspaceId, topics.rawWorkspaces)) === wsVersions.length,
      { timeoutMs: 120_000, what: 'bronze to hold every version of the job and its workspace' },
    );
    let gold: GoldSeen[] = [];
    await waitFor(
      async () => {
        gold = (await goldOf()).get(jobId)!;
        const latest = gold.at(-1)!;
        if (latest.ju !== Math.max(...jobVersions) || latest.wu !== Math.max(...wsVersions)) return false;
        const row = (
          await pool.query('select source_offset::text as o from gold.enrichment_jobs where job_id = $1', [
            jobId,
          ])
        ).rows[0];
        const doc = (await mongo
          .db('tributary')
          .collection<{ _id: string }>(collection)
          .findOne({ _id: jobId })) as { source_offset?: number } | null;
        return row?.o === latest.offset && String(doc?.source_offset) === latest.offset;
      },
      { timeoutMs: 120_000, what: 'both stores to hold the gold record of the latest versions' },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output()}`);
    });

    const cli = await runCli(['trace', jobId, '--json'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const trace = JSON.parse(cli.stdout) as JobLineage;
    expect(trace.problems).toEqual([]);
    expect(trace.jobId).toBe(jobId);
    expect(trace.workspaceId).toBe(workspaceId);
    expect(trace.scans.every((s) => s.complete)).toBe(true);

    // every valid version of the job and of its workspace, each with its source request
    expect(trace.jobVersions).toHaveLength(jobVersions.length);
    expect(trace.workspaceVersions).toHaveLength(wsVersions.length);
    for (const v of [...trace.jobVersions, ...trace.workspaceVersions]) {
      expect(v.source.requestId).toMatch(/\S/);
      expect(v.raw.topic).toBe(v.entity === 'job' ? topics.rawJobs : topics.rawWorkspaces);
      expect(v.hops.slice(0, 3).map((h) => h.hop)).toEqual(['source', 'raw', 'bronze']);
      assertOrdered(v);
    }
    // each job version emitted one gold record; the workspace update re-emitted one
    for (const v of trace.jobVersions) {
      expect(v.gold.map((g) => g.trigger)).toEqual(['job']);
      expect(v.gold[0]!.jobUpdatedAt).toBe(v.updatedAt);
      expect(v.hops.map((h) => h.hop)).toContain('gold');
    }
    const reEmitted = trace.workspaceVersions.flatMap((v) => v.gold.map((g) => ({ v, g })));
    expect(reEmitted.length).toBeGreaterThan(0);
    for (const { v, g } of reEmitted) {
      expect(g.trigger).toBe('workspace');
      expect(g.workspaceUpdatedAt).toBe(v.updatedAt);
    }
    // the gold records are exactly the job's records on the gold topic
    const traced = [...trace.jobVersions, ...trace.workspaceVersions, { gold: trace.otherGold }]
      .flatMap((v) => v.gold)
      .map((g) => `${g.partition}@${g.offset}`)
      .sort();
    expect(traced).toEqual(gold.map((g) => `${g.partition}@${g.offset}`).sort());
    expect(trace.otherGold).toEqual([]);
    // the latest one is what Postgres and MongoDB hold, with its write time after it
    const last = gold.at(-1)!;
    expect(trace.stores.postgres?.offset).toBe(last.offset);
    expect(trace.stores.mongo?.offset).toBe(last.offset);
    const holder = [...trace.jobVersions, ...trace.workspaceVersions].find((v) =>
      v.gold.some((g) => g.offset === last.offset),
    )!;
    expect(holder.hops.map((h) => h.hop)).toEqual(expect.arrayContaining(['gold', 'postgres', 'mongo']));

    // its dead letters: the malformed versions the pollers refused, with their reasons
    const letters = (await readCommitted(kafka, [topics.dlqJobs])).filter((r) =>
      String(r.message.value).includes(jobId),
    );
    expect(letters.length).toBeGreaterThan(0);
    expect(
      trace.deadLetters
        .filter((d) => d.topic === topics.dlqJobs)
        .map((d) => `${d.partition}@${d.offset}`)
        .sort(),
    ).toEqual(letters.map((l) => `${l.partition}@${l.message.offset}`).sort());
    for (const d of trace.deadLetters) {
      expect(d.reason).toMatch(/\S/);
      expect(d.requestId).toMatch(/\S/);
    }

    // the gateway answers the same trace; the text output names every hop
    gateway = await startTestGateway(run.infra, env);
    const res = await fetch(`${gateway.url}/api/jobs/${jobId}/lineage`);
    expect(res.status).toBe(200);
    const api = (await res.json()) as JobLineage;
    expect({ ...api, tracedAt: '' }).toEqual({ ...trace, tracedAt: '' });
    const missing = await fetch(`${gateway.url}/api/jobs/${crypto.randomUUID()}/lineage`);
    expect(missing.status).toBe(404);
    const text = await runCli(['trace', jobId], env);
    expect(text.code, text.stderr).toBe(0);
    for (const word of [
      'job version',
      'workspace version',
      'source',
      'raw',
      'bronze',
      'gold',
      'postgres',
      'mongo',
      'dead letters',
    ]) {
      expect(text.stdout).toContain(word);
    }
    // the waits above may add up to more than the project's default test timeout on a loaded machine
  }, 600_000);
});

/** Each hop happened at or after the hop it follows. */
function assertOrdered(v: VersionTrace): void {
  for (const h of v.hops) {
    expect(h.at, `${v.entity} ${v.updatedAt} ${h.hop}`).not.toBeNull();
    if (h.after !== null)
      expect(h.afterMs, `${v.entity} ${v.updatedAt} ${h.hop} after ${h.after}`).toBeGreaterThanOrEqual(0);
  }
}
