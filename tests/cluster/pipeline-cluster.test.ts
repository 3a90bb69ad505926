import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { down, reset, up, upOne } from '../../infra/runner.ts';
import { describeMembers } from '../../ops/lag.ts';
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
import { startTestSource, type TestSource } from '../support/poller-harness.ts';
import { testInfraEnv } from '../support/test-env.ts';

/**
 * Scale-out (issue 13): a three-node Kafka cluster (replication 3, min ISR 2), two instances — two
 * processes — of every role, and a source that keeps changing. One broker is killed -9 and the
 * pipeline must keep moving on the other two before the broker comes back; then one instance of each
 * role is killed -9 and started again; then one processor instance is stopped (SIGSTOP) until the
 * group has moved its partitions to the other one, and resumed (SIGCONT) as a zombie. After the
 * source pauses and the pipeline drains: every group at lag 0, bronze holds every version once, gold
 * in Postgres = MongoDB = the gold topic = a join of the source API, nothing emitted twice on the
 * gold topic, both gateways count the same gold, every instance answers /readyz.
 *
 * Its own infrastructure instance on port offset 400 (Kafka nodes on 19492-19497), because it kills
 * a broker; `npm run test:cluster`, not part of `npm test`.
 */
const infraEnv = {
  ...testInfraEnv(process.env, { name: 'test-cluster', portOffset: 400 }),
  TRIBUTARY_KAFKA_NODES: '3',
};
const opts = infraOptions(infraEnv);
const infraLines: string[] = [];
const infraLog = (line: string) => infraLines.push(line);

const ROLES = ['pollers', 'bronze', 'processor', 'gold-postgres', 'gold-mongo', 'gateway'] as const;
type Role = (typeof ROLES)[number];
type Instance = `${Role}-${1 | 2}`;
const INSTANCES = ROLES.flatMap((r) => [`${r}-1`, `${r}-2`] as Instance[]);
/** how long a role, or the pipeline after a broker's loss, may take to work again */
const RECOVERY_MS = 120_000;
/** twelve processes starting at once on two cores (each compiles its TypeScript): ~90-110 s seen */
const STARTUP_MS = 240_000;

describe('pipeline on a three-broker cluster, two instances of every role', () => {
  let kafka: Kafka;
  let admin: Admin;
  let topics: PipelineTopics;
  let source: TestSource;
  let pool: pg.Pool;
  let mongo: MongoClient;
  let roles: RoleSupervisor<Instance> | undefined;

  beforeAll(async () => {
    await reset(opts, infraLog);
    const rows = await up(opts, infraLog);
    expect(rows.filter((r) => !r.healthy)).toEqual([]);
    expect(rows.filter((r) => r.name.startsWith('kafka-')).map((r) => r.name)).toEqual([
      'kafka-1',
      'kafka-2',
      'kafka-3',
    ]);
    kafka = createKafka(opts.kafka, uniqueName('cluster'), testLogger);
    admin = kafka.admin();
    await admin.connect();
    topics = await createPipelineTopics(admin, opts.topicPartitions);
    // every topic, the test's included, has three replicas and needs two in sync
    const [raw] = (await admin.fetchTopicMetadata({ topics: [topics.rawJobs] })).topics;
    expect(raw!.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '250',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '3',
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '40',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '40',
      // enough jobs that new ones keep coming for the whole test (finished jobs never change)
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '1000',
    });
    pool = new pg.Pool({ connectionString: opts.postgres.url, max: 2 });
    pool.on('error', () => {}); // idle connections ended by the server: the next query reconnects
    mongo = new MongoClient(opts.mongo.url);
    await mongo.connect();
  });

  afterAll(async () => {
    // every step, even when one before it fails: the servers must not outlive the test
    const steps: Array<[string, () => Promise<unknown> | undefined]> = [
      ['roles', () => roles?.killAll()],
      ['source', () => source?.close()],
      ['mongo', () => mongo?.close()],
      ['pool', () => pool?.end()],
      ['admin', () => admin?.disconnect()],
      ['infra down', () => down(opts, infraLog)],
    ];
    for (const [what, step] of steps)
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => console.error(`cluster test clean-up (${what}): ${(err as Error).message}`));
  });

  it('converges to the join of the source through a broker kill, role kills and a zombie processor', {
    timeout: 540_000,
  }, async () => {
    const started = Date.now();
    const groups = pipelineGroups(uniqueName('cluster'));
    const collection = uniqueCollection('cluster_gold');
    const env: Record<string, string> = {
      ...infraEnv,
      ...pipelineEnv(topics, source.url, { groups, collection, pollers: { TRIBUTARY_POLL_PAGE_SIZE: '50' } }),
      TRIBUTARY_STALL_AFTER_MS: '20000',
      TRIBUTARY_STALL_RESTART_MS: '45000',
      TRIBUTARY_GATEWAY_LAG_GROUPS: Object.values(groups).join(','),
    };
    const specs = {} as Record<Instance, RoleSpec>;
    for (const n of [1, 2] as const) {
      const id = (role: Role) => ({ TRIBUTARY_INSTANCE_ID: `${role}-${n}` });
      // two identical pollers processes: their group gives each API to one of them
      specs[`pollers-${n}`] = { entry: 'producers/process.ts', env: id('pollers') };
      specs[`bronze-${n}`] = { entry: 'consumers/bronze/process.ts', env: id('bronze') };
      specs[`processor-${n}`] = {
        entry: 'consumers/processor/process.ts',
        env: { ...id('processor'), TRIBUTARY_PROCESSOR_INSTANCE: `processor-${n}` },
      };
      specs[`gold-postgres-${n}`] = {
        entry: 'consumers/gold-sinks/process.ts',
        env: { ...id('gold-postgres'), TRIBUTARY_GOLD_SINKS: 'postgres' },
      };
      specs[`gold-mongo-${n}`] = {
        entry: 'consumers/gold-sinks/process.ts',
        env: { ...id('gold-mongo'), TRIBUTARY_GOLD_SINKS: 'mongo' },
      };
      specs[`gateway-${n}`] = {
        entry: 'gateway/server.ts',
        portVar: 'TRIBUTARY_GATEWAY_PORT',
        env: id('gateway'),
      };
    }
    const raw = [topics.rawWorkspaces, topics.rawJobs];
    const stages: Record<string, string[]> = {
      [groups.bronzeWs]: [topics.rawWorkspaces],
      [groups.bronzeJobs]: [topics.rawJobs],
      [groups.processor]: raw,
      [groups.goldPg]: [topics.gold],
      [groups.goldMongo]: [topics.gold],
    };
    const gauges = stageGauges({ kafka, admin }, raw, stages);

    const timeline = new Timeline();
    roles = await superviseRoles(specs, env, timeline);
    const sup = roles;
    const explain = async (err: unknown) => {
      const files = sup.dump(path.resolve('test-artifacts', 'pipeline-cluster'));
      const lines = await groupsReport({ kafka, admin }, Object.values(groups));
      for (const name of INSTANCES) {
        const r = await sup.readyzStatus(name).catch((e: Error) => ({ status: 0, body: e.message }));
        lines.push(`${name} /readyz: ${r.status} ${r.body}`);
      }
      return new Error(
        `${(err as Error).message}\n\n=== groups and instances now\n${lines.join('\n')}\n\n=== timeline\n${timeline}\n\n` +
          `=== infra\n${infraLines.slice(-20).join('\n')}\n\n` +
          `=== role output (tails; whole in ${path.dirname(files[0]!)})\n${sup.tails(2500)}`,
        { cause: err },
      );
    };
    const allProgress = (why: string) => waitForProgress(gauges, why, { timeoutMs: RECOVERY_MS, timeline });
    const allReady = (timeoutMs = RECOVERY_MS) =>
      Promise.all(INSTANCES.map((name) => sup.ready(name, timeoutMs)));
    const processorMembers = async () => (await describeMembers(admin, groups.processor)).members.length;

    try {
      for (const name of INSTANCES) sup.start(name);
      await allReady(STARTUP_MS);
      timeline.add(`all ${INSTANCES.length} instances ready`);
      await allProgress('start');
      await waitFor(async () => (await processorMembers()) === 2, {
        timeoutMs: RECOVERY_MS,
        what: 'both processor instances to be members of the group',
      });

      // 1. A broker dies: the other two hold a replica of everything and form a quorum, so every
      // stage must keep moving before it comes back.
      const node = pick(opts.kafka.nodes.map((n) => `kafka-${n.id}` as const));
      const brokerPid = await killServer(opts, node);
      timeline.add(`kill -9 ${node} (pid ${brokerPid})`);
      await allProgress(`with ${node} down`);
      const back = await upOne(opts, node, infraLog);
      timeline.add(`${node} is back (pid ${back.pid}): ${back.detail}`);
      await allReady();
      await allProgress(`after ${node} restarted`);

      // 2. One instance of each role dies and is started again: the other instance takes over its
      // partitions (and, for the pollers, the group's state stays exactly-once).
      const victims = ROLES.map((r) => `${r}-${pick([1, 2])}` as Instance);
      await Promise.all(victims.map((v) => sup.kill9(v)));
      timeline.add(`kill -9 ${victims.join(', ')}`);
      await pause(randomMs(1000, 3000));
      for (const v of victims) sup.start(v);
      timeline.add('the killed instances started again');
      await allReady();
      await allProgress('after the role kills');

      // 3. A zombie: one processor instance stops answering until the group has given its
      // partitions to the other, which goes on; then it resumes with the batch it had in hand.
      const zombie = pick(['processor-1', 'processor-2'] as const);
      const zombiePid = sup.signal(zombie, 'SIGSTOP');
      timeline.add(`SIGSTOP ${zombie} (pid ${zombiePid})`);
      await waitFor(async () => (await processorMembers()) === 1, {
        timeoutMs: RECOVERY_MS,
        what: `the processor group to drop ${zombie}`,
      });
      timeline.add(`the processor group dropped ${zombie}`);
      await waitForProgress({ [groups.processor]: gauges[groups.processor]! }, `${zombie} stopped`, {
        timeoutMs: RECOVERY_MS,
        timeline,
      });
      sup.signal(zombie, 'SIGCONT');
      timeline.add(`SIGCONT ${zombie}`);
      await allReady();
      await waitFor(async () => (await processorMembers()) === 2, {
        timeoutMs: RECOVERY_MS,
        what: 'both processor instances to be members of the group again',
      });
      await allProgress(`after ${zombie} resumed`);

      // The source stops changing; the pipeline drains.
      source.handle.pause();
      timeline.add('source paused');
      const expected = await joinFromSource(source.url);
      expect(expected.size).toBeGreaterThan(40);
      expect([...expected.values()].some((g) => g.workspace_resolved)).toBe(true);
      const bronze = await expectBronzeOnce(pool, source, topics, RECOVERY_MS);
      timeline.add(`bronze holds every version once: ${JSON.stringify(bronze)}`);
      await waitForLagZero({ kafka, admin }, Object.values(groups), RECOVERY_MS);
      timeline.add('every group at lag 0');
      const registry = createSchemaRegistry(opts.registry);
      const { records } = await expectGoldEverywhere({
        pool,
        mongo,
        collection,
        kafka,
        registry,
        goldTopic: topics.gold,
        expected,
        timeoutMs: RECOVERY_MS,
      });
      timeline.add(
        `gold: ${expected.size} jobs equal in Postgres, MongoDB and on the topic (${records} records)`,
      );
      for (const n of [1, 2] as const)
        await waitForGatewayCounts(sup.baseUrl(`gateway-${n}`), expected, RECOVERY_MS);
      for (const name of INSTANCES) {
        const r = await sup.readyzStatus(name);
        expect(r.status, `${name} /readyz: ${r.body}`).toBe(200);
      }

      timeline.add(`self-exits restarted by the supervisor: ${JSON.stringify(sup.selfExits())}`);
      const codes = await sup.stopAll();
      expect(codes, 'every instance exits cleanly on SIGTERM').toEqual(
        Object.fromEntries(INSTANCES.map((n) => [n, 0])),
      );
      timeline.add(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      console.info(`cluster timeline:\n${timeline}`);
    } catch (err) {
      throw await explain(err);
    }
  });
});

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}
