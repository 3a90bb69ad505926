/**
 * The whole pipeline under load, every role in this one process (as `npm start` runs them), on the
 * local infrastructure of the environment (TRIBUTARY_DATA_DIR, or the TRIBUTARY_* server URLs).
 *
 *   npm run bench:pipeline -- [--mode backfill] [--versions 200000] [--workspaces 20000]
 *                              [--shared-fraction F] [--no-ceilings] [--cpu-prof FILE]
 *   npm run bench:pipeline -- --mode sustained [--rate 1000] [--seconds 60] [--tick-ms 100]
 *   common: [--stall-seconds 30] [--timeout-seconds 1800] [--no-gateway] [--instances 1] [--keep]
 *           [--json] [--help]
 *   npm run bench:pipeline -- --clean-up bench-1a2b3c4d
 *
 * Backfill: fills the mock source with N versions first (its initial population shares one
 * updated_at), then starts the other roles and samples every stage once a second (polled, raw
 * topics, bronze rows, joined, gold topic, gold rows in Postgres and MongoDB) until gold in
 * Postgres, MongoDB and the gold topic hold every job and every group is drained. Then, on the same
 * data, each stage's bare ceiling (source walk, kafkajs consume and produce, Postgres COPY, MongoDB
 * insertMany): every stage's rate, its ratio to its ceiling, and the end-to-end rate against the
 * slowest ceiling.
 *
 * Sustained: the initial population through the pipeline first, then the simulator at --rate
 * changes/s for --seconds: freshness (source updated_at → row written in each gold store) p50/p99,
 * whether each consumer group's lag stays bounded, and the process's peak RSS.
 *
 * A stage that stops moving for --stall-seconds ends the run "stalled at <stage>", with the warnings
 * and errors of the role logs. Exit code: 0 complete, 3 stalled, 4 timed out, 130 Ctrl-C, 2 bad
 * flags, 1 failure. Everything is named per run (topics, groups, transactional ids, a Postgres
 * database, a MongoDB collection) and removed at the end unless --keep (then, or after a second
 * Ctrl-C: `--clean-up <run>`). Not part of `npm test`: see docs/performance.md.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createKafka } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import { type BenchArgs, parseBenchArgs, USAGE } from './pipeline/args.ts';
import { runBackfill } from './pipeline/backfill.ts';
import type { RunContext } from './pipeline/context.ts';
import { withExtraInstances } from './pipeline/instances.ts';
import { backfillReport, sustainedReport } from './pipeline/report.ts';
import { rolesInProcess } from './pipeline/roles.ts';
import { backfillSourceEnv, sourceAdmin, sustainedSourceEnv } from './pipeline/source.ts';
import { createStageSampler } from './pipeline/stages.ts';
import { runSustained } from './pipeline/sustained.ts';
import {
  cleanUpRun,
  createRunDatabase,
  createRunTopics,
  freePort,
  MONGO_PATIENCE,
  randomToken,
  runEnv,
  runNames,
} from './pipeline/world.ts';

let args: BenchArgs;
try {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  args = parsed;
} catch (err) {
  console.error(`bench:pipeline: ${(err as Error).message} (--help lists the flags)`);
  process.exit(2);
}

const log = (line: string) => console.error(`[bench] ${line}`);
const baseInfra = infraOptions(process.env);
const n = runNames(process.env, args.cleanUp);
const kafka = createKafka(baseInfra.kafka, n.run, createLogger('bench', 'warn'));
const admin = kafka.admin();
if (args.cleanUp) {
  await admin.connect();
  log(`removing what ${n.run} left behind…`);
  await cleanUpRun({ infra: baseInfra, admin, n, log });
  await admin.disconnect();
  process.exit(0);
}
// Ctrl-C ends the measurement and still reports and cleans up; a second one quits at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) {
    log(`quitting without cleaning up: npm run bench:pipeline -- --clean-up ${n.run}`);
    process.exit(130);
  }
  log('stopping (Ctrl-C again to quit at once)…');
  interrupt.abort();
});
let exitCode = 1;
let closeRoles: (() => Promise<string[]>) | undefined;
const closers: Array<() => Promise<unknown>> = [];

try {
  await admin.connect();
  log(`run ${n.run}: topics, database ${n.database}, collection ${n.mongoDatabase}.${n.collection}`);
  await createRunTopics(admin, n, baseInfra.topicPartitions);
  const postgresUrl = await createRunDatabase(baseInfra, n.database);
  const sourcePort = await freePort();
  const adminToken = randomToken();
  const env = runEnv(process.env, n, {
    postgresUrl,
    sourcePort,
    adminToken,
    gateway: args.gateway,
    source: args.mode === 'backfill' ? backfillSourceEnv(args) : sustainedSourceEnv(args),
  });
  const infra = infraOptions(env);
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 3 });
  closers.push(() => pool.end());
  const mongo = new MongoClient(infra.mongo.url, MONGO_PATIENCE);
  await mongo.connect();
  closers.push(() => mongo.close());
  const gold = mongo.db(n.mongoDatabase).collection(n.collection);
  const own = rolesInProcess({ env, logFile: path.join(tmpdir(), `tributary-${n.run}.log`) });
  // --instances N: N - 1 child processes of the pipeline roles join once this process's have started
  const roles = args.instances > 1 ? withExtraInstances(own, { extra: args.instances - 1, env, log }) : own;
  closeRoles = () => roles.close();
  const sourceUrl = `http://127.0.0.1:${sourcePort}`;
  const source = sourceAdmin(sourceUrl, adminToken);
  const sampler = createStageSampler({
    n,
    kafka,
    admin,
    pool,
    gold,
    source,
    roles,
    partitions: infra.topicPartitions,
  });
  const ctx: RunContext = {
    args,
    n,
    env,
    infra,
    kafka,
    admin,
    pool,
    mongo,
    gold,
    roles,
    source,
    sourceUrl,
    sampler,
    signal: interrupt.signal,
    log,
  };
  const result = args.mode === 'backfill' ? await runBackfill(ctx) : await runSustained(ctx);
  console.log(
    args.json
      ? JSON.stringify(result, null, 2)
      : result.mode === 'backfill'
        ? backfillReport(result)
        : sustainedReport(result),
  );
  exitCode = { complete: 0, stalled: 3, timeout: 4, interrupted: 130 }[result.outcome.kind];
} catch (err) {
  // a role that could not start is an outcome worth one clear line; anything else, the stack
  const e = err as Error;
  log(`failed: ${e.message.includes('role did not start') ? e.message : (e.stack ?? e)}`);
} finally {
  const late = await closeRoles?.().catch((err: Error) => [`closing the roles failed: ${err.message}`]);
  for (const l of late ?? []) log(l);
  for (const close of closers.reverse())
    await close().catch((err: Error) => log(`close failed: ${err.message}`));
  if (args.keep)
    log(`--keep: left the run's topics, groups, database ${n.database} and collections in place`);
  else {
    log('cleaning up…');
    await cleanUpRun({ infra: baseInfra, admin, n, log });
  }
  await admin.disconnect();
}
// Clients of the roles that did not close in time must not keep the process alive.
process.exit(exitCode);
