import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { type RoleProcess, spawnRole } from '../support/child.ts';
import { testInfra } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import { type FakeVersion, startFakeSource } from '../support/poller-fake-source.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  duplicates,
  pollerEnv,
  rawVersions,
  readCommitted,
} from '../support/poller-harness.ts';

const infra = testInfra();
const T = Date.parse('2026-01-01T00:00:00.000Z');

/** A workspace version as the source serves it (valid for the raw schema). */
function ws(id: string, at: number): FakeVersion {
  return {
    id,
    name: `w-${id.slice(0, 8)}`,
    plan: 'free',
    segment: 'smb',
    country: 'FR',
    owner_email: 'owner@example.test',
    created_at: new Date(T).toISOString(),
    updated_at: new Date(at).toISOString(),
  };
}

/**
 * The load issue's backfill: a bulk import upstream gives tens of thousands of versions one
 * updated_at. The poller state used to list every version of the overlap window and outgrew Kafka's
 * 1 MB limit, after which ingestion stopped for good. Here 30,000 versions (20,000 of them with one
 * timestamp) arrive while the source keeps changing and the poller is killed twice mid-backfill:
 * every version is published exactly once and every state record stays small.
 */
describe('pollers: backfill with one shared timestamp', () => {
  const { kafka, admin, registry } = useKafkaClients('pollers-backfill');

  it('publishes every version exactly once across kill -9, with state records of constant size', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startFakeSource();
    const feed = source.versions.workspaces!;
    for (let i = 0; i < 20_000; i++) feed.push(ws(randomUUID(), T));
    for (let i = 0; i < 10_000; i++) feed.push(ws(randomUUID(), T + 1 + i));
    const env = {
      ...inject('infraEnv'),
      ...pollerEnv(topics, source.url, {
        TRIBUTARY_POLL_PAGE_SIZE: '500',
        TRIBUTARY_POLL_INTERVAL_MS: '300',
        // a wide window: every version of the backfill is inside it at the same time
        TRIBUTARY_POLL_OVERLAP_MS: '60000',
      }),
      TRIBUTARY_LOG_LEVEL: 'debug',
    };
    let child: RoleProcess | undefined;
    // The source keeps changing: new versions of existing and new workspaces, "now" timestamps.
    let changes = 0;
    const changer = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        const old = feed[(changes * 7919) % feed.length]!;
        feed.push(ws(i % 2 === 0 ? old.id : randomUUID(), T + 20_000 + changes));
        changes++;
      }
    }, 50);
    try {
      for (const after of [5, 17]) {
        const p = spawnRole('producers/process.ts', env);
        child = p;
        let pages = 0;
        p.child.stderr!.on('data', (d: Buffer) => {
          pages += String(d).split('"page committed"').length - 1;
          if (pages >= after) p.child.kill('SIGKILL');
        });
        await waitFor(() => p.child.signalCode === 'SIGKILL' || p.child.exitCode !== null, {
          timeoutMs: 120_000,
          what: `${after} committed pages and the kill`,
        });
        expect(p.child.exitCode).toBeNull();
        await p.kill9();
      }
      const last = spawnRole('producers/process.ts', env);
      child = last;
      clearInterval(changer);
      const expected = feed.map((v) => `${v.id}@${Date.parse(v.updated_at)}`);
      let walks = 0;
      last.child.stderr!.on('data', (d: Buffer) => {
        for (const line of String(d).split('\n')) {
          if (line.includes('"walk done"') && line.includes('"api":"workspaces"')) walks++;
        }
      });
      // two complete walks after the last change: the second one began after it
      await waitFor(() => walks >= 2, { timeoutMs: 180_000, what: 'two complete walks after the changes' });
      expect(await last.stop()).toBe(0);

      const raw = await readCommitted(kafka, [topics.rawWorkspaces]);
      const got = await rawVersions(registry, raw);
      expect(duplicates(got)).toEqual([]);
      expect(got.length).toBe(expected.length);
      expect(new Set(got)).toEqual(new Set(expected));
      const states = await readCommitted(kafka, [topics.state]);
      expect(states.length).toBeGreaterThan(30);
      const largest = Math.max(...states.map((s) => s.message.value?.length ?? 0));
      expect(largest).toBeLessThan(2048);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- poller output ---\n${child?.output().slice(-6000)}`, {
        cause: err,
      });
    } finally {
      clearInterval(changer);
      await child?.kill9();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
    // The sum of the waits' own deadlines (2 x 120 s + 180 s) plus set-up and checks: when the
    // machine is slow, a wait that runs out names what did not happen instead of a bare timeout.
  }, 480_000);
});
