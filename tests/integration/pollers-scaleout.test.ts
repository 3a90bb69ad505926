import { type Admin, AssignerProtocol } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { API_NAMES, type ApiName } from '../../producers/apis.ts';
import { transactionalId } from '../../producers/options.ts';
import { apiOfPartition } from '../../producers/ownership.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { testInfra } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  duplicates,
  type PollerTopics,
  pollerEnv,
  rawVersions,
  readCommitted,
  startTestSource,
} from '../support/poller-harness.ts';

/**
 * Two pollers processes (issue 13): the pollers' group gives each API to exactly one of them, the
 * survivor of a kill -9 takes the dead one's API over, and every version lands on the raw topics
 * exactly once. And a poller whose transactional id is taken by a producer outside the group stops
 * that API with a clear error and a red /readyz instead of fencing it back.
 */
const infra = testInfra();

interface LogLine {
  msg?: string;
  api?: string;
  time?: number;
  level?: number;
  reason?: string;
  [k: string]: unknown;
}

/** A pollers process whose JSON log lines (pino on stderr) are kept, parsed. */
interface Pollers {
  name: string;
  proc: RoleProcess;
  lines: LogLine[];
  /** the APIs it polls now, by its own log: started minus stopped */
  polling(): Set<string>;
}

function spawnPollers(name: string, env: Record<string, string>): Pollers {
  const proc = spawnRole('producers/process.ts', { ...env, TRIBUTARY_INSTANCE_ID: name });
  const lines: LogLine[] = [];
  let partial = '';
  proc.child.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + String(d)).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (kafkajs never writes to stderr itself; kept for safety)
      }
    }
  });
  return {
    name,
    proc,
    lines,
    polling() {
      const now = new Set<string>();
      for (const l of lines) {
        if (!l.api) continue;
        if (l.msg === 'polling this API (assigned by the pollers group)') now.add(l.api);
        // revoked by the group, or fenced (the fence's explanation says it stops polling the API)
        if (l.msg === 'stopped polling this API' || /stops polling/.test(l.msg ?? '')) now.delete(l.api);
      }
      return now;
    },
  };
}

/** member client id → the APIs the group assigns it, from the group coordinator (DescribeGroups). */
async function groupAssignment(admin: Admin, group: string, topic: string): Promise<Map<string, ApiName[]>> {
  const { groups } = await admin.describeGroups([group]);
  const out = new Map<string, ApiName[]>();
  const g = groups[0];
  if (g?.state !== 'Stable') return out;
  for (const m of g.members) {
    const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
    out.set(
      m.clientId,
      (a[topic] ?? []).map((p) => apiOfPartition(p)!),
    );
  }
  return out;
}

function baseEnv(topics: PollerTopics, sourceUrl: string, extra: Record<string, string> = {}) {
  return {
    ...inject('infraEnv'),
    ...pollerEnv(topics, sourceUrl, { TRIBUTARY_POLL_PAGE_SIZE: '3' }),
    TRIBUTARY_LOG_LEVEL: 'debug',
    ...extra,
  };
}

describe('pollers: two processes', () => {
  const { kafka, admin, registry } = useKafkaClients('pollers-scaleout');

  it('poll each API once between them, take over after a kill -9, and publish every version exactly once', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    // a source that keeps changing for the whole test (room for new workspaces and jobs)
    const source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '40',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '400',
    });
    const env = baseEnv(topics, source.url);
    const group = `${topics.prefix}.owners`;
    const procs: Pollers[] = [];
    try {
      const a = spawnPollers('pollers-a', env);
      procs.push(a);
      await waitFor(() => a.polling().size === 2, {
        timeoutMs: 60_000,
        what: 'pollers-a polls both APIs alone',
      });

      const b = spawnPollers('pollers-b', env);
      procs.push(b);
      // The group moves one API to the newcomer and leaves the other where it runs.
      await waitFor(
        async () => {
          const assigned = await groupAssignment(admin, group, topics.state);
          return (
            assigned.get('tributary-pollers-pollers-a')?.length === 1 &&
            assigned.get('tributary-pollers-pollers-b')?.length === 1 &&
            a.polling().size === 1 &&
            b.polling().size === 1
          );
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'one API per process, by the group and by their logs' },
      );
      const [movedApi] = [...b.polling()];
      expect([...a.polling(), ...b.polling()].sort()).toEqual([...API_NAMES].sort());
      // b polls its API for real: it loaded the API's state and walked the feed to its end (whether
      // the walk found anything new depends on how far the source's jobs have come)
      await waitFor(() => b.lines.filter((l) => l.msg === 'walk done' && l.api === movedApi).length >= 2, {
        timeoutMs: 60_000,
        what: `pollers-b walks ${movedApi} twice`,
      });
      // kill -9 the newcomer: the group gives its API back to a once its session expires, and a's
      // new producer fences whatever b had open.
      await b.proc.kill9();
      await waitFor(
        async () => {
          const assigned = await groupAssignment(admin, group, topics.state);
          return (
            assigned.size === 1 &&
            assigned.get('tributary-pollers-pollers-a')?.length === 2 &&
            a.polling().size === 2
          );
        },
        { timeoutMs: 90_000, intervalMs: 250, what: `pollers-a takes ${movedApi} over` },
      );

      // Drain: with the source paused, two complete walks of each feed by a after the pause.
      await source.admin('POST', '/simulator/pause');
      const pausedAt = Date.now();
      const walksAfterPause = (api: string) =>
        a.lines.filter((l) => l.msg === 'walk done' && l.api === api && (l.time ?? 0) > pausedAt).length;
      const ws = await source.versions('workspaces');
      const jobs = await source.versions('enrichment-jobs');
      await waitFor(() => walksAfterPause('workspaces') >= 2 && walksAfterPause('enrichment-jobs') >= 2, {
        timeoutMs: 120_000,
        what: 'two complete walks per API after the pause',
      });
      expect(await a.proc.stop()).toBe(0);

      const raw = await readCommitted(kafka, [topics.rawWorkspaces, topics.rawJobs]);
      const gotWs = await rawVersions(
        registry,
        raw.filter((r) => r.topic === topics.rawWorkspaces),
      );
      const gotJobs = await rawVersions(
        registry,
        raw.filter((r) => r.topic === topics.rawJobs),
      );
      expect(duplicates(gotWs)).toEqual([]);
      expect(duplicates(gotJobs)).toEqual([]);
      expect(gotWs.sort()).toEqual([...ws.valid].sort());
      expect(gotJobs.sort()).toEqual([...jobs.valid].sort());
      // both processes did real work on the API that moved
      expect(a.lines.some((l) => l.msg === 'page committed' && l.api === movedApi)).toBe(true);
    } catch (err) {
      const tails = procs.map((p) => `--- ${p.name} ---\n${p.proc.output().slice(-5000)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
    } finally {
      for (const p of procs) await p.proc.kill9();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });

  it('a poller fenced by a producer outside the group stops that API, says why, and turns /readyz red', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '40',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '400',
    });
    const env = baseEnv(topics, source.url, {
      TRIBUTARY_STALL_AFTER_MS: '2000',
      TRIBUTARY_STALL_RESTART_MS: '0',
    });
    const p = spawnPollers('pollers-fenced', env);
    const outsider = kafka.producer({
      transactionalId: transactionalId({ transactionalIdPrefix: topics.prefix }, 'workspaces'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      await waitFor(() => p.lines.some((l) => l.msg === 'page committed' && l.api === 'workspaces'), {
        timeoutMs: 60_000,
        what: 'the pollers commit a page of workspaces',
      });
      const opsUrl = p.lines
        .map((l) => /health and metrics at (\S+)\/healthz/.exec(l.msg ?? '')?.[1])
        .find((u) => u !== undefined);
      expect(opsUrl).toBeDefined();

      // Something outside the group initialises the workspaces poller's transactional id.
      await outsider.connect();
      const tx = await outsider.transaction();
      await tx.send({ topic: topics.metrics, messages: [{ value: 'outsider' }] });
      await tx.commit();

      // The source keeps changing, so the poller's next page meets the fence.
      const fenceLine = await waitFor(
        () =>
          p.lines.find((l) => l.level === 50 && /another producer with transactional id/.test(l.msg ?? '')),
        { timeoutMs: 60_000, what: 'the fenced poller explains itself' },
      );
      expect(fenceLine.msg).toContain(`${topics.prefix}.workspaces`);
      expect(fenceLine.msg).toContain('pollers-fenced');
      expect(p.polling().has('workspaces')).toBe(false);

      // /readyz turns red naming the API and the fence; the other API goes on. (With the 2 s stall
      // threshold of this test, a loaded machine can also make the jobs poller late for a moment:
      // /readyz then names both, and the first red answer may name only that one.)
      const fenced = /poller workspaces.*another producer initialised transactional id/;
      let lastRed = '';
      await waitFor(
        async () => {
          const res = await fetch(`${opsUrl}/readyz`);
          if (res.status !== 503) return false;
          lastRed = JSON.stringify(await res.json());
          return fenced.test(lastRed);
        },
        { timeoutMs: 30_000, intervalMs: 250, what: '/readyz turns red naming the fence' },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; its last red answer: ${lastRed}`);
      });
      const jobsPages = p.lines.filter(
        (l) => l.msg === 'page committed' && l.api === 'enrichment-jobs',
      ).length;
      await waitFor(
        () =>
          p.lines.filter((l) => l.msg === 'page committed' && l.api === 'enrichment-jobs').length > jobsPages,
        { timeoutMs: 60_000, what: 'enrichment-jobs goes on' },
      );

      // It does not fence back: the outsider still commits with its epoch.
      const again = await outsider.transaction();
      await again.send({ topic: topics.metrics, messages: [{ value: 'outsider again' }] });
      await again.commit();
      expect(
        p.lines.filter(
          (l) => l.msg === 'polling this API (assigned by the pollers group)' && l.api === 'workspaces',
        ),
      ).toHaveLength(1);
      expect(await p.proc.stop()).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- pollers ---\n${p.proc.output().slice(-6000)}`, {
        cause: err,
      });
    } finally {
      await outsider.disconnect();
      await p.proc.kill9();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });
});
