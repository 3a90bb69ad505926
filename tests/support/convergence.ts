import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { expect } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { groupLag } from '../../ops/lag.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { committedSum, endSum, type Timeline } from './chaos.ts';
import { consumeUntil } from './kafka.ts';
import { type GoldContent, goldFromMongo, goldFromPostgres } from './pipeline.ts';
import type { TestSource } from './poller-harness.ts';

/**
 * What the whole-pipeline tests (chaos, cluster) check once the source pauses and the pipeline
 * drains, and how they tell that every stage moves: shared so that both hold the same bar.
 */

export const sortedKeys = (o: object | undefined) =>
  o ? Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y))) : o;

export const equalMaps = (a: Map<string, GoldContent>, b: Map<string, GoldContent>) =>
  a.size === b.size &&
  [...a].every(([k, v]) => JSON.stringify(sortedKeys(b.get(k))) === JSON.stringify(sortedKeys(v)));

export function duplicatesOf(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((x) => seen.has(x) || !seen.add(x));
}

export function stripProcessedAt(g: EnrichmentJobGold): GoldContent {
  const { processed_at: _, ...rest } = g;
  return rest;
}

/** A gauge per stage: a number that grows while the stage works, or `idle` when it has nothing to do. */
export type StageGauge = () => Promise<{ value: number; idle?: () => Promise<boolean> }>;

/** The pollers (the raw topics' ends) and each group's committed offsets over the topics it reads. */
export function stageGauges(
  clients: { kafka: Kafka; admin: Admin },
  rawTopics: string[],
  groups: Record<string, string[]>,
): Record<string, StageGauge> {
  const { admin } = clients;
  const gauges: Record<string, StageGauge> = {
    'pollers (raw topics)': async () => ({ value: await endSum(admin, rawTopics) }),
  };
  for (const [group, from] of Object.entries(groups))
    gauges[group] = async () => ({
      value: await committedSum(admin, group, from),
      idle: async () => (await groupLag(clients, group)).lagMessages === 0,
    });
  return gauges;
}

/** Waits until every gauge moved past its value now (each part of the pipeline works). */
export async function waitForProgress(
  gauges: Record<string, StageGauge>,
  why: string,
  opts: { timeoutMs: number; timeline: Timeline },
): Promise<void> {
  const before = new Map<string, number>();
  await waitFor(
    async () => {
      for (const [name, read] of Object.entries(gauges)) before.set(name, (await read()).value);
      return true;
    },
    { timeoutMs: opts.timeoutMs, what: `the offsets to be readable (${why})` },
  );
  const started = Date.now();
  const stuck = new Set(before.keys());
  await waitFor(
    async () => {
      for (const name of [...stuck]) {
        const now = await gauges[name]!();
        if (now.value > before.get(name)! || (await now.idle?.())) stuck.delete(name);
      }
      return stuck.size === 0;
    },
    { timeoutMs: opts.timeoutMs, what: `progress of every stage (${why})` },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}; no progress: ${[...stuck].join(', ')}`);
  });
  opts.timeline.add(`every stage progressed (${why}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** One line per group: state, members, lag and the offsets, for a failure message. */
export async function groupsReport(
  clients: { kafka: Kafka; admin: Admin },
  groups: string[],
): Promise<string[]> {
  const lines: string[] = [];
  for (const g of groups) {
    try {
      const l = await groupLag(clients, g);
      const parts = l.partitions.map((p) => `${p.topic}/${p.partition} ${p.committed ?? '-'}/${p.high}`);
      lines.push(
        `${g}: ${l.state}, ${l.members.length} member(s), lag ${l.lagMessages} [${parts.join(', ')}]`,
      );
    } catch (e) {
      lines.push(`${g}: ${(e as Error).message}`);
    }
  }
  return lines;
}

/** Waits until every group has consumed everything (lag 0). */
export async function waitForLagZero(
  clients: { kafka: Kafka; admin: Admin },
  groups: string[],
  timeoutMs: number,
): Promise<void> {
  const lagOf = async () => {
    const out: Record<string, number> = {};
    for (const g of groups) out[g] = (await groupLag(clients, g)).lagMessages;
    return out;
  };
  await waitFor(async () => Object.values(await lagOf()).every((n) => n === 0), {
    timeoutMs,
    what: 'every consumer group to reach lag 0',
  }).catch(async (err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(await lagOf())}`);
  });
}

/** Bronze holds every valid version the source served, exactly once; returns the counts per table. */
export async function expectBronzeOnce(
  pool: pg.Pool,
  source: TestSource,
  raw: { rawWorkspaces: string; rawJobs: string },
  timeoutMs: number,
): Promise<Record<string, number>> {
  const bronzeVersions = async (table: string, topic: string) =>
    (
      await pool.query(
        `select id || '@' || floor(extract(epoch from updated_at) * 1000)::bigint as v from ${table} where topic = $1`,
        [topic],
      )
    ).rows.map((r) => r.v as string);
  const counts: Record<string, number> = {};
  for (const [api, table, topic] of [
    ['workspaces', 'bronze.workspaces', raw.rawWorkspaces],
    ['enrichment-jobs', 'bronze.enrichment_jobs', raw.rawJobs],
  ] as const) {
    const valid = (await source.versions(api)).valid.sort();
    await waitFor(async () => (await bronzeVersions(table, topic)).length >= valid.length, {
      timeoutMs,
      what: `bronze to hold the ${valid.length} valid ${api} versions`,
    });
    const rows = (await bronzeVersions(table, topic)).sort();
    expect(rows, `${table} = the source's valid versions, once each`).toEqual(valid);
    counts[table] = rows.length;
  }
  return counts;
}

/**
 * Gold in Postgres = MongoDB = the gold topic's latest per key = `expected`, and no (job, job
 * version, workspace version) on the topic twice. Returns how many gold records the topic holds.
 */
export async function expectGoldEverywhere(deps: {
  pool: pg.Pool;
  mongo: MongoClient;
  collection: string;
  kafka: Kafka;
  registry: SchemaRegistry;
  goldTopic: string;
  expected: Map<string, GoldContent>;
  timeoutMs: number;
}): Promise<{ records: number }> {
  const { expected, timeoutMs } = deps;
  const jobIds = [...expected.keys()];
  const converged = async (what: string, read: () => Promise<Map<string, GoldContent>>) => {
    await waitFor(async () => equalMaps(await read(), expected), { timeoutMs, what });
    expect(await read()).toEqual(expected);
  };
  await converged('gold in Postgres to equal the join', () => goldFromPostgres(deps.pool, jobIds));
  await converged('gold in MongoDB to equal the join', () =>
    goldFromMongo(deps.mongo, deps.collection, jobIds),
  );
  const onTopic = await consumeUntil(
    deps.kafka,
    [deps.goldTopic],
    (records) => {
      const latest = new Map<string, GoldContent>();
      for (const r of records)
        if (r.key && r.value) latest.set(r.key, stripProcessedAt(r.value as EnrichmentJobGold));
      return equalMaps(latest, expected);
    },
    { registry: deps.registry, timeoutMs },
  );
  const emitted = onTopic
    .map((r) => r.value as EnrichmentJobGold)
    .map((g) => `${g.job_id}/${g.job_updated_at}/${g.workspace_updated_at}`);
  expect(duplicatesOf(emitted), 'gold records emitted twice').toEqual([]);
  return { records: onTopic.length };
}

/** The gateway at `baseUrl` counts the gold jobs by status as `expected` does. */
export async function waitForGatewayCounts(
  baseUrl: string,
  expected: Map<string, GoldContent>,
  timeoutMs: number,
): Promise<void> {
  const byStatus = { queued: 0, processing: 0, completed: 0, failed: 0, canceled: 0, total: 0 };
  for (const g of expected.values()) {
    byStatus[g.status as keyof typeof byStatus] += 1;
    byStatus.total += 1;
  }
  await waitFor(
    async () => {
      const res = await fetch(`${baseUrl}/api/stats/status`);
      return res.ok && JSON.stringify(sortedKeys(await res.json())) === JSON.stringify(sortedKeys(byStatus));
    },
    {
      timeoutMs,
      what: `the gateway ${baseUrl} to count the gold jobs by status: ${JSON.stringify(byStatus)}`,
    },
  );
}
