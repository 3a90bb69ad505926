import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import { down, reset, up } from '../../infra/runner.ts';
import type { ServiceName } from '../../infra/service.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import {
  killServer,
  pause,
  type RoleSpec,
  type RoleSupervisor,
  randomMs,
  superviseRoles,
  Timeline,
} from '../support/chaos.ts';
import {
  expectBronzeOnce,
  expectGoldEverywhere,
  groupsReport,
  stageGauges,
  waitForGatewayCounts,
  waitForLagZero,
  waitForProgress,
} from '../support/convergence.ts';
import { testLogger, uniqueName } from '../support/infra.ts';
import { joinFromSource } from '../support/pipeline.ts';
import {
  createPipelineTopics,
  type PipelineTopics,
  pipelineEnv,
  pipelineGroups,
  uniqueCollection,
} from '../support/pipeline-run.ts';
import { readCommitted, startTestSource, type TestSource } from '../support/poller-harness.ts';
import { testInfraEnv } from '../support/test-env.ts';

/**
 * Chaos: every role in its own process against a source that answers 30 % 429s and 10 % 5xx, while
 * random roles are killed -9 and started again 1–4 s later, and each server (Kafka, Postgres, the
 * MongoDB server, the registry) is killed -9 once and brought back by `up`. After the source pauses
 * and the pipeline drains: every group's lag is 0, bronze holds every valid version once, gold in
 * Postgres = MongoDB = the topic's latest per key = a join of the source API, nothing was emitted
 * twice on the gold topic, and every role says it is ready.
 *
 * Its own infrastructure instance (own data folder and ports), because it kills the servers while
 * other test files use the shared one.
 */
const infraEnv = testInfraEnv(process.env, { name: 'test-chaos', portOffset: 300 });
const opts = infraOptions(infraEnv);
const infraLog = () => {};

type RoleName = 'pollers' | 'bronze' | 'processor' | 'gold-postgres' | 'gold-mongo' | 'gateway';
const ROLE_NAMES: RoleName[] = ['pollers', 'bronze', 'processor', 'gold-postgres', 'gold-mongo', 'gateway'];
/**
 * Server rounds (1-based): the role that depends most on the server is killed and started again,
 * and the server is killed as soon as the role answers /readyz — while it joins its group, restores
 * its state and fetches the schemas it has not seen yet. The server comes back (infra up) during the
 * next rounds.
 */
const SERVER_ROUNDS: Record<number, { server: ServiceName; victim: RoleName }> = {
  3: { server: 'kafka', victim: 'processor' },
  6: { server: 'postgres', victim: 'bronze' },
  9: { server: 'mongodb', victim: 'gold-mongo' },
  11: { server: 'registry', victim: 'processor' },
};
const ROUNDS = 12;
/** how long a role, or the pipeline after a server restart, may take to work again */
const RECOVERY_MS = 120_000;

describe('pipeline under chaos', () => {
  let kafka: Kafka;
  let admin: Admin;
  let topics: PipelineTopics;
  let source: TestSource;
  let pool: pg.Pool;
  let mongo: MongoClient;
  let roles: RoleSupervisor<RoleName> | undefined;

  beforeAll(async () => {
    await reset(opts, infraLog);
    const rows = await up(opts, infraLog);
    expect(rows.filter((r) => !r.healthy)).toEqual([]);
    kafka = createKafka(opts.kafka, uniqueName('chaos'), testLogger);
    admin = kafka.admin();
    await admin.connect();
    topics = await createPipelineTopics(admin, opts.topicPartitions);
    source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '250',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '3',
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '40',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '40',
      // enough jobs that new ones keep coming for the whole test (finished jobs never change)
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '1000',
      TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE: '0.3',
      TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE: '0.1',
      TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.02',
      TRIBUTARY_MOCK_SOURCE_FAULT_RETRY_AFTER_SECONDS: '1',
    });
    pool = new pg.Pool({ connectionString: opts.postgres.url, max: 2 });
    // a server restart ends idle connections: the pool's error event must not kill the test
    pool.on('error', () => {});
    mongo = new MongoClient(opts.mongo.url);
    await mongo.connect();
  });

  afterAll(async () => {
    await roles?.killAll();
    await source?.close();
    await mongo?.close();
    await pool?.end();
    await admin?.disconnect();
    await down(opts, infraLog);
  });

  it('converges to the join of the source through kill -9 of roles and servers', {
    timeout: 420_000,
  }, async () => {
    const groups = pipelineGroups(uniqueName('chaos'));
    const collection = uniqueCollection('chaos_gold');
    const env: Record<string, string> = {
      ...infraEnv,
      ...pipelineEnv(topics, source.url, { groups, collection, pollers: { TRIBUTARY_POLL_PAGE_SIZE: '50' } }),
      TRIBUTARY_STALL_AFTER_MS: '20000',
      TRIBUTARY_STALL_RESTART_MS: '45000',
      TRIBUTARY_GATEWAY_LAG_GROUPS: Object.values(groups).join(','),
    };
    const specs: Record<RoleName, RoleSpec> = {
      pollers: { entry: 'producers/process.ts' },
      bronze: { entry: 'consumers/bronze/process.ts' },
      processor: { entry: 'consumers/processor/process.ts' },
      'gold-postgres': {
        entry: 'consumers/gold-sinks/process.ts',
        env: { TRIBUTARY_GOLD_SINKS: 'postgres' },
      },
      'gold-mongo': { entry: 'consumers/gold-sinks/process.ts', env: { TRIBUTARY_GOLD_SINKS: 'mongo' } },
      gateway: { entry: 'gateway/server.ts', portVar: 'TRIBUTARY_GATEWAY_PORT' },
    };
    // What moves when each part of the pipeline works: the raw topics' ends (the pollers), and each
    // group's committed offsets, unless the group has nothing left to read (lag 0).
    const raw = [topics.rawWorkspaces, topics.rawJobs];
    const gauges = stageGauges({ kafka, admin }, raw, {
      [groups.bronzeWs]: [topics.rawWorkspaces],
      [groups.bronzeJobs]: [topics.rawJobs],
      [groups.processor]: raw,
      [groups.goldPg]: [topics.gold],
      [groups.goldMongo]: [topics.gold],
    });

    const timeline = new Timeline();
    roles = await superviseRoles(specs, env, timeline);
    const sup = roles;
    /** where each group and role stands, for a failure message */
    const diagnose = async () => {
      const lines = await groupsReport({ kafka, admin }, Object.values(groups));
      for (const name of ROLE_NAMES) {
        const r = await sup.readyzStatus(name).catch((e: Error) => ({ status: 0, body: e.message }));
        lines.push(`${name} /readyz: ${r.status} ${r.body}`);
      }
      return lines.join('\n');
    };
    const explain = async (err: unknown) => {
      const files = sup.dump(path.resolve('test-artifacts', 'pipeline-chaos'));
      return new Error(
        `${(err as Error).message}\n\n=== groups and roles now\n${await diagnose()}\n\n=== timeline\n${timeline}\n\n` +
          `=== role output (tails; whole in ${path.dirname(files[0]!)})\n${sup.tails()}`,
        { cause: err },
      );
    };

    /** waits until every gauge moved past its value now (each part of the pipeline works) */
    const allProgress = (why: string) => waitForProgress(gauges, why, { timeoutMs: RECOVERY_MS, timeline });
    const allReady = async () => {
      for (const name of ROLE_NAMES) await sup.ready(name, RECOVERY_MS);
    };

    try {
      for (const name of ROLE_NAMES) sup.start(name);
      await allReady();
      await allProgress('start');

      // A killed server comes back (infra up) in the background while the role rounds go on; before
      // the next server kill, and at the end, every stage must have moved again.
      let restoring: { server: ServiceName; done: Promise<unknown> } | undefined;
      const serverBack = async () => {
        if (!restoring) return;
        const { server, done } = restoring;
        restoring = undefined;
        const failed = await done;
        if (failed) throw failed;
        await allReady();
        await allProgress(`after the ${server} restart`);
      };
      let last: RoleName | undefined;
      for (let round = 1; round <= ROUNDS; round++) {
        const plan = SERVER_ROUNDS[round];
        if (plan) await serverBack();
        const victim = plan?.victim ?? pick(ROLE_NAMES.filter((r) => r !== last));
        last = victim;
        await sup.kill9(victim);
        timeline.add(`round ${round}: kill -9 ${victim}`);
        await pause(randomMs(1000, 4000));
        sup.start(victim);
        timeline.add(`round ${round}: ${victim} started again`);
        if (plan) {
          await sup.ready(victim, RECOVERY_MS);
          const pid = await killServer(opts, plan.server);
          timeline.add(`round ${round}: ${victim} ready; kill -9 ${plan.server} (pid ${pid})`);
          const { server } = plan;
          restoring = {
            server,
            // resolves to the error, if any, so that it is not an unhandled rejection meanwhile
            done: pause(randomMs(1000, 4000))
              .then(() => up(opts, infraLog))
              .then(
                () => timeline.add(`${server} is back (infra up)`),
                (err: unknown) => err,
              ),
          };
        } else if (!restoring) {
          // while a server is down, a role may not even start (it exits, the supervisor retries)
          await sup.ready(victim, RECOVERY_MS);
          timeline.add(`round ${round}: ${victim} ready`);
        }
      }
      await serverBack();
      await allProgress('after the last round');

      // The source stops changing and stops failing, so its API can be read for the expected join.
      await source.admin('PUT', '/faults', { rate429: 0, rate5xx: 0, rateMalformedRecord: 0 });
      source.handle.pause();
      timeline.add('source paused');
      const expected = await joinFromSource(source.url);
      expect(expected.size).toBeGreaterThan(40);
      expect([...expected.values()].some((g) => g.workspace_resolved)).toBe(true);

      // Bronze: every valid version the source served, exactly once.
      await expectBronzeOnce(pool, source, topics, RECOVERY_MS);
      timeline.add('bronze holds every valid version once');

      // Dead letters: the pollers' DLQs hold exactly the malformed versions, and nothing valid went
      // to bronze's DLQs or the processor's.
      const dead = await readCommitted(kafka, [
        topics.dlqWorkspaces,
        topics.dlqJobs,
        topics.bronzeDlqWorkspaces,
        topics.bronzeDlqJobs,
        topics.goldDlq,
      ]);
      const byReason = (topic: string) => {
        const out: Record<string, number> = {};
        for (const r of dead.filter((d) => d.topic === topic)) {
          const reason = readDeadLetter(r.headers).reason ?? '(no reason)';
          out[reason] = (out[reason] ?? 0) + 1;
        }
        return out;
      };
      for (const topic of [topics.goldDlq, topics.bronzeDlqWorkspaces, topics.bronzeDlqJobs])
        expect(byReason(topic), `${topic}: dead letters by reason`).toEqual({});
      for (const [api, topic] of [
        ['workspaces', topics.dlqWorkspaces],
        ['enrichment-jobs', topics.dlqJobs],
      ] as const) {
        const keys = dead
          .filter((d) => d.topic === topic)
          .map((d) => {
            try {
              const v = JSON.parse(String(d.message.value)) as { id: string; updated_at: string };
              return `${v.id}@${Date.parse(v.updated_at)}`;
            } catch {
              return `not a source record: ${readDeadLetter(d.headers).reason}`;
            }
          });
        const malformed = (await source.versions(api)).malformed;
        expect(keys.sort(), `${topic} = the malformed ${api} versions, once each`).toEqual(malformed.sort());
      }
      timeline.add('dead letters: the malformed versions only');

      // Every group caught up.
      await waitForLagZero({ kafka, admin }, Object.values(groups), RECOVERY_MS);
      timeline.add('every group at lag 0');

      // Gold everywhere = the join, and nothing emitted twice on the gold topic.
      const registry = createSchemaRegistry(opts.registry);
      await expectGoldEverywhere({
        pool,
        mongo,
        collection,
        kafka,
        registry,
        goldTopic: topics.gold,
        expected,
        timeoutMs: RECOVERY_MS,
      });
      timeline.add(`gold: ${expected.size} jobs equal in Postgres, MongoDB and on the topic`);

      // The gateway reads the same gold after the Postgres restart, and every role says it works.
      await waitForGatewayCounts(sup.baseUrl('gateway'), expected, RECOVERY_MS);
      for (const name of ROLE_NAMES) {
        const r = await sup.readyzStatus(name);
        expect(r.status, `${name} /readyz: ${r.body}`).toBe(200);
      }

      timeline.add(`self-exits restarted by the supervisor: ${JSON.stringify(sup.selfExits())}`);
      const codes = await sup.stopAll();
      expect(codes, 'every role exits cleanly on SIGTERM').toEqual(
        Object.fromEntries(ROLE_NAMES.map((n) => [n, 0])),
      );
      console.info(`chaos timeline:\n${timeline}`);
    } catch (err) {
      throw await explain(err);
    }
  });
});

function pick<T>(list: T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}
