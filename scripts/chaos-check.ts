/**
 * The end of a chaos run (scripts/chaos.sh): pauses the mock source and switches its faults off, then
 * waits until the pipeline drained and prints whether it converged: every consumer group's lag,
 * bronze against every valid version the source served, and gold in Postgres, MongoDB and on the
 * gold topic against a join computed from the source API. Exit code 0 when all of it holds.
 *
 * `node --import tsx scripts/chaos-check.ts`, with the roles' environment (topic and group names are
 * read through the roles' own options) plus TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN, and optionally
 * CHAOS_DRAIN_TIMEOUT_S (default 300) and CHAOS_STARTED_AT_MS (epoch ms: the processor's dead
 * letters since then are listed, and any fails the run, since the source's versions are all valid
 * joins).
 */

import { createLogger } from '../common/logger.ts';
import { readRanges, wholeTopics } from '../common/topic-reader.ts';
import { WaitTimeoutError, waitFor } from '../common/wait-for.ts';
import { bronzeOptions } from '../consumers/bronze/options.ts';
import { goldSinksOptions } from '../consumers/gold-sinks/options.ts';
import { processorOptions } from '../consumers/processor/options.ts';
import { readDeadLetter } from '../contracts/dead-letter.ts';
import { openOpsClients } from '../ops/clients.ts';
import { type GroupLag, groupLag } from '../ops/lag.ts';
import { pollersOptions } from '../producers/options.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import type { EnrichmentJobGold } from '../schemas/generated/types.ts';
import {
  type GoldContent,
  goldFromMongo,
  goldFromPostgres,
  joinFromSource,
} from '../tests/support/pipeline.ts';

const env = process.env;
const token = env.TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN;
if (!token) {
  console.error(
    'chaos-check: TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN is not set — set it to the mock source’s admin token',
  );
  process.exit(2);
}
const timeoutMs = Number(env.CHAOS_DRAIN_TIMEOUT_S ?? 300) * 1000;
const since = Number(env.CHAOS_STARTED_AT_MS ?? Date.now());
const sourceUrl = pollersOptions(env).sourceUrl;
const bronze = bronzeOptions(env).topics;
const processor = processorOptions(env);
const sinks = goldSinksOptions(env);
const groups = [
  ...bronze.map((t) => t.groupId),
  processor.groupId,
  sinks.groupIds.postgres,
  sinks.groupIds.mongo,
];

async function admin<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sourceUrl}/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok)
    throw new Error(`mock source: ${method} /admin${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const sorted = (o: object | undefined) =>
  o ? JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y)))) : 'absent';
/** how many jobs of the join a store lacks or holds differently */
function differences(expected: Map<string, GoldContent>, got: Map<string, GoldContent>): number {
  let n = 0;
  for (const [k, v] of expected) if (sorted(got.get(k)) !== sorted(v)) n++;
  return n;
}

const clients = await openOpsClients(infraOptions(env), 'chaos-check', createLogger('chaos-check', 'error'));
try {
  await admin('PUT', '/faults', {
    rate429: 0,
    rate5xx: 0,
    rateTruncated: 0,
    rateSlow: 0,
    rateMalformedRecord: 0,
  });
  await admin('POST', '/simulator/pause');
  const expected = await joinFromSource(sourceUrl);
  const jobIds = [...expected.keys()];
  const versions = {
    workspaces: await admin<Array<{ id: string; updated_at: string; malformed: boolean }>>(
      'GET',
      '/versions/workspaces',
    ),
    'enrichment-jobs': await admin<Array<{ id: string; updated_at: string; malformed: boolean }>>(
      'GET',
      '/versions/enrichment-jobs',
    ),
  };
  console.log(`source paused: ${expected.size} jobs in the join of its API`);

  const report = {
    lags: [] as GroupLag[],
    bronze: [] as string[],
    postgres: -1,
    mongo: -1,
    topic: -1,
    twice: -1,
  };
  const bronzeOk = async () => {
    report.bronze = [];
    let ok = true;
    for (const t of bronze) {
      const table = t.name === 'workspaces' ? 'bronze.workspaces' : 'bronze.enrichment_jobs';
      const valid = versions[t.name].filter((v) => !v.malformed);
      const { rows } = await clients.pool().query(
        // table comes from the constant above, the rest is bound
        `select id || '@' || floor(extract(epoch from updated_at) * 1000)::bigint as v, count(*)::int as n
           from ${table} where topic = $1 and id = any($2::uuid[]) group by 1`,
        [t.topic, [...new Set(valid.map((v) => v.id))]],
      );
      const counts = new Map(rows.map((r) => [r.v as string, r.n as number]));
      const keys = valid.map((v) => `${v.id}@${Date.parse(v.updated_at)}`);
      const missing = keys.filter((k) => !counts.has(k)).length;
      const twice = keys.filter((k) => (counts.get(k) ?? 0) > 1).length;
      report.bronze.push(
        `${table}: ${keys.length} valid versions, ${missing} missing, ${twice} more than once`,
      );
      ok &&= missing === 0 && twice === 0;
    }
    return ok;
  };
  const goldTopic = async () => {
    const latest = new Map<string, GoldContent>();
    const emitted = new Set<string>();
    let twice = 0;
    const wanted = new Set(jobIds);
    await readRanges(clients, await wholeTopics(clients.admin, [sinks.topic]), async ({ message }) => {
      const key = message.key?.toString();
      if (!key || !wanted.has(key) || !message.value) return undefined;
      const { processed_at: _, ...g } = (await clients.registry.decode(message.value)) as EnrichmentJobGold;
      const id = `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`;
      if (emitted.has(id)) twice++;
      emitted.add(id);
      latest.set(key, g);
      return undefined;
    });
    report.topic = differences(expected, latest);
    report.twice = twice;
    return report.topic === 0 && twice === 0;
  };
  /** the processor's dead letters written since the run started, counted by reason */
  const goldDeadLetters = async () => {
    const reasons: Record<string, number> = {};
    await readRanges(clients, await wholeTopics(clients.admin, [processor.topics.dlq]), ({ message }) => {
      if (Number(message.timestamp) < since) return undefined;
      const reason = readDeadLetter(message.headers).reason ?? '(no reason)';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      return undefined;
    });
    return reasons;
  };
  const converged = async () => {
    report.lags = await Promise.all(groups.map((g) => groupLag(clients, g)));
    const lagOk = report.lags.every((l) => l.lagMessages === 0);
    const bronzeDone = await bronzeOk();
    report.postgres = differences(expected, await goldFromPostgres(clients.pool(), jobIds));
    report.mongo = differences(
      expected,
      await goldFromMongo(await clients.mongo(), sinks.mongo.collection, jobIds),
    );
    if (!(lagOk && bronzeDone && report.postgres === 0 && report.mongo === 0)) return false;
    return goldTopic();
  };

  let ok = true;
  let lastPrint = 0;
  await waitFor(
    async () => {
      const done = await converged();
      if (!done && Date.now() - lastPrint > 10_000) {
        lastPrint = Date.now();
        const lag = report.lags.reduce((n, l) => n + l.lagMessages, 0);
        console.log(
          `draining: total lag ${lag}, gold differing: Postgres ${report.postgres}, MongoDB ${report.mongo}`,
        );
      }
      return done;
    },
    { timeoutMs, intervalMs: 2000, what: 'the pipeline to drain and converge' },
  ).catch((err) => {
    if (!(err instanceof WaitTimeoutError)) throw err;
    ok = false;
    console.log(`NOT CONVERGED: ${err.message}`);
  });

  console.log('\nconsumer group                                   lag  state               members');
  for (const l of report.lags) {
    console.log(
      `${l.group.padEnd(48)} ${String(l.lagMessages).padStart(4)}  ${l.state.padEnd(19)} ${l.members.length}`,
    );
  }
  for (const line of report.bronze) console.log(line);
  const show = (n: number) => (n < 0 ? 'not checked' : n === 0 ? 'equal' : `${n} jobs differ`);
  console.log(`gold vs the join of the source (${expected.size} jobs):`);
  console.log(
    `  Postgres: ${show(report.postgres)}; MongoDB: ${show(report.mongo)}; topic (latest per key): ${show(report.topic)}`,
  );
  console.log(`  emitted twice on the topic: ${report.twice < 0 ? 'not checked' : report.twice}`);
  const dead = await goldDeadLetters();
  console.log(
    `dead letters of the processor (${processor.topics.dlq}) since the start: ${JSON.stringify(dead)}`,
  );
  if (Object.keys(dead).length > 0) ok = false;
  console.log(ok ? '\nCONVERGED' : '\nFAILED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await clients.close();
}
