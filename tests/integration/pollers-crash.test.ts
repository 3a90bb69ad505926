import { randomInt } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { testInfra } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  duplicates,
  pollerEnv,
  rawVersions,
  readCommitted,
  startTestSource,
} from '../support/poller-harness.ts';

const infra = testInfra();

/** Calls `onLine` with each JSON log line of the child (pino on stderr), from now on. */
function watchLog(
  p: RoleProcess,
  onLine: (line: { msg?: string; api?: string; time?: number }) => void,
): void {
  let partial = '';
  p.child.stderr!.on('data', (d: Buffer) => {
    const lines = (partial + String(d)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        onLine(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  });
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('pollers: kill -9', () => {
  const { kafka, admin, registry } = useKafkaClients('pollers-crash');

  it('neither skips nor duplicates a version when the poller process is killed at random moments', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startTestSource({ TRIBUTARY_MOCK_SOURCE_TICK_MS: '100' });
    const env = {
      ...inject('infraEnv'),
      ...pollerEnv(topics, source.url, { TRIBUTARY_POLL_PAGE_SIZE: '3' }),
      TRIBUTARY_LOG_LEVEL: 'debug',
    };
    let child: RoleProcess | undefined;
    try {
      // Kill points: right after a page arrived, between the sends and the commit of its
      // transaction (the open transaction must be aborted by the next start), and after a commit.
      for (const point of shuffle(['page fetched', 'page sent', 'page committed', 'page sent'])) {
        const p = spawnRole('producers/process.ts', env);
        child = p;
        const after = 1 + randomInt(6);
        let n = 0;
        // SIGKILL from the output handler itself: no delay between the log line and the kill
        watchLog(p, ({ msg }) => {
          if (msg === point && ++n >= after) p.child.kill('SIGKILL');
        });
        await waitFor(() => p.child.signalCode === 'SIGKILL' || p.child.exitCode !== null, {
          timeoutMs: 90_000,
          what: `the ${after}th "${point}" and the kill`,
        });
        expect(p.child.exitCode).toBeNull(); // killed, not crashed
        await p.kill9();
      }

      // A last start catches up: with the source paused, two complete walks of each feed (the
      // second began after the pause) publish whatever is left; then a clean stop.
      const last = spawnRole('producers/process.ts', env);
      child = last;
      const walksDone: Record<string, number[]> = { workspaces: [], 'enrichment-jobs': [] };
      watchLog(last, ({ msg, api, time }) => {
        if (msg === 'walk done' && api && api in walksDone) walksDone[api]!.push(time ?? 0);
      });
      await source.admin('POST', '/simulator/pause');
      // Walks are told apart by the time the poller logged their end, not by when the line reached
      // this process: under load a line written before the pause can arrive after it. The first
      // walk that ended after the pause may have begun before it; the second began after it.
      const pausedAt = Date.now();
      const walksAfterPause = (api: string) => walksDone[api]!.filter((t) => t > pausedAt).length;
      const ws = await source.versions('workspaces');
      const jobs = await source.versions('enrichment-jobs');
      await waitFor(() => walksAfterPause('workspaces') >= 2 && walksAfterPause('enrichment-jobs') >= 2, {
        timeoutMs: 120_000,
        what: 'two complete walks per poller after the pause',
      });
      expect(await last.stop()).toBe(0);

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
    } catch (err) {
      // the child's log explains most failures: attach its tail
      throw new Error(`${(err as Error).message}\n--- poller output ---\n${child?.output().slice(-6000)}`, {
        cause: err,
      });
    } finally {
      await child?.kill9();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });
});
