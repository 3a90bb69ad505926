import type { Admin } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { TributaryError } from '../common/errors.ts';
import { quoteQualified } from '../common/pg-names.ts';
import { recreateTopics } from '../common/topic-admin.ts';
import { type TopicSpec, topicConfigs, topologyTopics } from '../contracts/topology.ts';
import { mockSourceSchema } from '../mock-source/options.ts';
import { assertWorldIdle, resetWorld, type WorldReset } from '../mock-source/pg-schema.ts';
import type { OpsOptions } from './options.ts';
import { describeMemberList } from './replay.ts';
import { pipelineGroups } from './status.ts';

/**
 * `tributary reset`: empties what the pipeline derived so it can be rebuilt from Kafka (bronze and
 * gold tables, the gold collection, the consumer groups' offsets), and with `topics` also deletes
 * and recreates the pipeline's topics (then everything starts from the source again). Nothing
 * remote can be stopped from here, so it refuses while any pipeline group has members.
 */
export interface ResetPlan {
  groups: string[];
  tables: string[];
  mongo: { database: string; collection: string };
  /** the topics to delete and recreate (empty without --topics) */
  topics: TopicSpec[];
}

export interface ResetReport {
  truncated: string[];
  documentsDeleted: number;
  groupsDeleted: string[];
  topicsRecreated: string[];
}

/** The declared topics under their configured names (contracts/topology.ts). */
export function pipelineTopics(ops: OpsOptions): TopicSpec[] {
  const t = ops.topics;
  return topologyTopics({
    topics: {
      rawWorkspaces: t.rawWorkspaces,
      rawJobs: t.rawJobs,
      sourceDlqWorkspaces: t.pollerDlqs.workspaces,
      sourceDlqJobs: t.pollerDlqs.jobs,
      rawDlqWorkspaces: t.bronzeDlqs.workspaces,
      rawDlqJobs: t.bronzeDlqs.jobs,
      gold: t.gold,
      goldDlq: t.goldDlq,
      pollerState: t.pollerState,
      processorState: t.processorState,
      metrics: t.metrics,
      walks: t.walks,
    },
  });
}

export async function planReset(
  admin: Admin,
  ops: OpsOptions,
  opts: { topics: boolean },
): Promise<ResetPlan> {
  const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
  return {
    groups: (await pipelineGroups(admin, ops)).filter((g) => existing.has(g)),
    tables: [...ops.bronzeTables, ops.gold.table],
    mongo: ops.gold.mongo,
    topics: opts.topics ? pipelineTopics(ops) : [],
  };
}

export async function assertNoActiveGroups(admin: Admin, groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  const { groups: described } = await admin.describeGroups([...groups]);
  const active = described.filter((g) => g.members.length > 0);
  if (active.length > 0) {
    const list = active.map((g) => `${g.groupId} (${describeMemberList(g.members)})`).join('; ');
    throw new TributaryError(`consumer groups with active members: ${list}`, {
      retriable: true,
      fix: 'stop the pipeline roles (tributary start, the role processes) and run reset again',
    });
  }
}

export async function applyReset(
  deps: { admin: Admin; pool: pg.Pool; mongo: MongoClient },
  plan: ResetPlan,
  opts: { partitions: number; timeoutMs?: number },
): Promise<ResetReport> {
  await assertNoActiveGroups(deps.admin, plan.groups);
  const report: ResetReport = { truncated: [], documentsDeleted: 0, groupsDeleted: [], topicsRecreated: [] };
  if (plan.tables.length > 0) {
    await deps.pool.query(`TRUNCATE ${plan.tables.map((t) => quoteQualified(t)).join(', ')}`);
    report.truncated = [...plan.tables];
  }
  const deleted = await deps.mongo.db(plan.mongo.database).collection(plan.mongo.collection).deleteMany({});
  report.documentsDeleted = deleted.deletedCount;
  if (plan.groups.length > 0) {
    await deps.admin.deleteGroups(plan.groups);
    report.groupsDeleted = [...plan.groups];
  }
  if (plan.topics.length > 0) {
    // Deleted, forgotten by the broker, re-created, and usable (leaders answering) before this
    // returns: `tributary reset --topics --yes && tributary start` must find working topics.
    await recreateTopics(deps.admin, topicConfigs(opts.partitions, plan.topics), {
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
    report.topicsRecreated = plan.topics.map((t) => t.name);
  }
  return report;
}

/**
 * The mock source's world (kept in Postgres, mock-source/README.md). With --topics everything starts
 * again from the source, so the source begins a new world too: one consistent beginning. A reset
 * that keeps the topics keeps the world, because the raw topics and the pollers' cursors hold its
 * versions, and a new world from the same seed reuses their ids with other histories (the poisoning
 * of issue 12). The schema is undefined when the world is kept.
 */
export function mockSourceWorldToReset(
  env: NodeJS.ProcessEnv,
  opts: { topics: boolean },
): string | undefined {
  return opts.topics ? mockSourceSchema(env) : undefined;
}

/** Refuses, like the consumer groups check, while a mock source runs on the world. */
export async function assertMockSourceStopped(pool: pg.Pool, schema: string | undefined): Promise<void> {
  if (schema !== undefined) await assertWorldIdle(pool, schema);
}

/** Empties the world after the topics were re-created; undefined when there was none to empty. */
export async function resetMockSourceWorld(
  pool: pg.Pool,
  schema: string | undefined,
): Promise<WorldReset | undefined> {
  return schema === undefined ? undefined : resetWorld(pool, schema);
}
