import { randomUUID } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { waitFor } from '../common/wait-for.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';
import { type CatchUpTarget, createCatchUpWatcher, endOffsets } from './catch-up.ts';
import { summarizeDlq } from './dlq.ts';
import { diffHashes, type StoreDiff } from './rebuild/content-hash.ts';
import { hashesOf, mongoHashes, postgresHashes, topicLatest } from './rebuild/gold-contents.ts';
import { type GoldTarget, type ShadowNames, shadowNames } from './rebuild/names.ts';
import { type ShadowPipeline, startShadowPipeline } from './rebuild/shadow-pipeline.ts';
import { createShadow, removeShadow } from './rebuild/shadow-stores.ts';
import { swapMongo, swapPostgres, swapTopic } from './rebuild/swap.ts';

/**
 * `tributary rebuild-gold`: reprocesses the raw topics from the beginning into a shadow gold (topic,
 * Postgres table, MongoDB collection) with the real processor and sinks, waits until the shadow has
 * caught up with the raw topics' end offsets as they were at the start, compares it with the current
 * gold, and swaps it in only when `confirm` says so. Shadow topics, groups and the registry subject
 * are removed at the end whatever happens; the shadow stores too unless `keepShadow`.
 */
export interface RebuildReport {
  runId: string;
  shadow: ShadowNames;
  diffs: StoreDiff[];
  /** records the shadow processor or sinks dead-lettered */
  shadowDeadLetters: number;
  swapped: boolean;
  topicSwap?: { produced: number; tombstones: number };
  /** clean-up steps that failed (the rebuild itself succeeded) */
  cleanupProblems: string[];
}

export interface RebuildDeps {
  kafka: Kafka;
  admin: Admin;
  registry: SchemaRegistry;
  pool: pg.Pool;
  mongo: MongoClient;
  infra: InfraOptions;
  /** the environment the roles read their settings from (timings, batch sizes) */
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export async function rebuildGold(
  deps: RebuildDeps,
  opts: {
    target: GoldTarget;
    timeoutMs: number;
    keepShadow?: boolean;
    confirm: (diffs: StoreDiff[]) => Promise<boolean>;
    onStep?: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<RebuildReport> {
  const step = opts.onStep ?? (() => {});
  const { target } = opts;
  const names = shadowNames(target, randomUUID().slice(0, 8));
  let pipeline: ShadowPipeline | undefined;
  let swapped = false;
  const deadline = Date.now() + opts.timeoutMs;
  try {
    await createShadow(deps, target, names);
    const rawEnds = await endOffsets(deps.admin, [target.rawTopics.workspaces, target.rawTopics.jobs]);
    step(
      `reprocessing ${total(rawEnds)} raw offsets into ${names.goldTopic}, ${names.table}, ${names.collection}`,
    );
    pipeline = await startShadowPipeline(deps, target, names);
    await caughtUp(deps, names.processorGroup, rawEnds, deadline, opts.signal, step);
    const goldEnds = await endOffsets(deps.admin, [names.goldTopic]);
    await Promise.all([
      caughtUp(deps, names.postgresGroup, goldEnds, deadline, opts.signal, step),
      caughtUp(deps, names.mongoGroup, goldEnds, deadline, opts.signal, step),
    ]);
    await pipeline.close();
    pipeline = undefined;

    step('comparing the shadow with the current gold');
    const [currentTopic, shadowTopic] = await Promise.all([
      topicLatest(deps, target.goldTopic),
      topicLatest(deps, names.goldTopic),
    ]);
    const diffs = [
      diffHashes(
        'postgres',
        await postgresHashes(deps.pool, target.table),
        await postgresHashes(deps.pool, names.table),
      ),
      diffHashes(
        'mongodb',
        await mongoHashes(deps.mongo, target.mongo.database, target.mongo.collection),
        await mongoHashes(deps.mongo, target.mongo.database, names.collection),
      ),
      diffHashes('topic', hashesOf(currentTopic), hashesOf(shadowTopic)),
    ];
    const letters = await Promise.all(
      [names.processorDlqTopic, names.sinkDlqTopic].map((t) => summarizeDlq(deps, t)),
    );
    const report: RebuildReport = {
      runId: names.runId,
      shadow: names,
      diffs,
      shadowDeadLetters: letters.reduce((n, l) => n + l.records, 0),
      swapped: false,
      cleanupProblems: [],
    };
    if (await opts.confirm(diffs)) {
      step(`swapping ${names.table} → ${target.table}`);
      await swapPostgres(deps.pool, target.table, names.table);
      step(`swapping ${names.collection} → ${target.mongo.collection}`);
      await swapMongo(deps.mongo, target.mongo.database, target.mongo.collection, names.collection);
      step(`producing the changed records to ${target.goldTopic}`);
      swapped = true;
      report.topicSwap = await swapTopic(deps, target.goldTopic, currentTopic, shadowTopic);
      report.swapped = true;
    }
    report.cleanupProblems = await cleanUp();
    return report;
  } catch (err) {
    // the rebuild's own error is what the operator must see; a clean-up that fails too is logged
    await cleanUp().catch((cleanUpErr: unknown) =>
      deps.logger.warn(
        { err: describeError(cleanUpErr) },
        'rebuild-gold: cleaning up after a failure failed',
      ),
    );
    throw err;
  }

  async function cleanUp(): Promise<string[]> {
    if (pipeline)
      await pipeline
        .close()
        .catch((err: unknown) =>
          deps.logger.warn({ err: describeError(err) }, 'rebuild-gold: closing the shadow pipeline failed'),
        );
    pipeline = undefined;
    return removeShadow({ ...deps, registry: deps.infra.registry }, target, names, {
      keepStores: opts.keepShadow === true && !swapped,
    });
  }
}

const total = (targets: CatchUpTarget[]) => targets.reduce((n, t) => n + Number(t.offset), 0);

async function caughtUp(
  deps: { kafka: Kafka; admin: Admin },
  group: string,
  targets: CatchUpTarget[],
  deadline: number,
  signal: AbortSignal | undefined,
  step: (line: string) => void,
): Promise<void> {
  const watcher = createCatchUpWatcher(deps, group, targets);
  let lastNote = 0;
  await waitFor(
    async () => {
      const p = await watcher.check();
      if (!p.done && Date.now() - lastNote > 10_000) {
        step(`${group}: ${p.remaining} offsets to go`);
        lastNote = Date.now();
      }
      return p.done;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 500, what: `${group} to catch up`, signal },
  );
}
