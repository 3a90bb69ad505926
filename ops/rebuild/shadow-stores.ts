import type { Admin } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { TributaryError } from '../../common/errors.ts';
import { quoteQualified as qualified } from '../../common/pg-names.ts';
import { createTopicsReady, deleteTopicsGone } from '../../common/topic-admin.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { deleteSubject } from '../subjects.ts';
import type { GoldTarget, ShadowNames } from './names.ts';

/** Creates and removes the shadow's topics, table and collection. */

export async function tableExists(pool: pg.Pool, table: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT to_regclass($1) IS NOT NULL AS exists', [qualified(table)]);
  return rows[0].exists === true;
}

export async function createShadow(
  deps: { admin: Admin; pool: pg.Pool; mongo: MongoClient },
  target: GoldTarget,
  names: ShadowNames,
): Promise<void> {
  const existing = new Set(await deps.admin.listTopics());
  const missing = [target.rawTopics.workspaces, target.rawTopics.jobs, target.goldTopic].filter(
    (t) => !existing.has(t),
  );
  if (missing.length > 0) throw new TributaryError(`topic ${missing.join(', ')} does not exist`);
  if (!(await tableExists(deps.pool, target.table)))
    throw new TributaryError(`table ${target.table} does not exist`);

  // A shadow left by an interrupted run is stale: start from empty stores.
  await deps.pool.query(`DROP TABLE IF EXISTS ${qualified(names.table)}`);
  await deps.pool.query(
    `CREATE TABLE ${qualified(names.table)} (LIKE ${qualified(target.table)} INCLUDING ALL)`,
  );
  await dropCollection(deps.mongo, target.mongo.database, names.collection);

  const [meta] = (await deps.admin.fetchTopicMetadata({ topics: [target.rawTopics.workspaces] })).topics;
  const partitions = meta?.partitions.length ?? 1;
  const compact = [{ name: 'cleanup.policy', value: 'compact' }];
  // Usable (leaders answering) before the shadow processor and sinks start on them.
  await createTopicsReady(deps.admin, [
    { topic: names.goldTopic, numPartitions: partitions, replicationFactor: -1, configEntries: compact },
    { topic: names.stateTopic, numPartitions: partitions, replicationFactor: -1, configEntries: compact },
    { topic: names.processorDlqTopic, numPartitions: 1, replicationFactor: -1 },
    { topic: names.sinkDlqTopic, numPartitions: 1, replicationFactor: -1 },
  ]);
}

/** Removes the shadow's topics, groups and registry subject, and (unless swapped in) its stores. */
export async function removeShadow(
  deps: { admin: Admin; pool: pg.Pool; mongo: MongoClient; registry: InfraOptions['registry'] },
  target: GoldTarget,
  names: ShadowNames,
  opts: { keepStores: boolean },
): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  const topics = [names.goldTopic, names.stateTopic, names.processorDlqTopic, names.sinkDlqTopic];
  // Gone when this returns, not only asked for: nothing of the run is left listed afterwards.
  await attempt('delete shadow topics', () => deleteTopicsGone(deps.admin, topics, { timeoutMs: 60_000 }));
  await attempt('delete shadow groups', () =>
    deps.admin.deleteGroups([names.processorGroup, names.postgresGroup, names.mongoGroup]),
  );
  await attempt('delete shadow schema subject', () => deleteSubject(deps.registry, names.subject));
  if (!opts.keepStores) {
    await attempt('drop shadow table', () =>
      deps.pool.query(`DROP TABLE IF EXISTS ${qualified(names.table)}`),
    );
    await attempt('drop shadow collection', () =>
      dropCollection(deps.mongo, target.mongo.database, names.collection),
    );
  }
  return problems;
}

export async function collectionExists(
  mongo: MongoClient,
  database: string,
  collection: string,
): Promise<boolean> {
  // Compared here, not with a listCollections filter: mongo-java-server matches the filter loosely.
  const all = await mongo.db(database).listCollections({}, { nameOnly: true }).toArray();
  return all.some((c) => c.name === collection);
}

async function dropCollection(mongo: MongoClient, database: string, collection: string): Promise<void> {
  if (await collectionExists(mongo, database, collection))
    await mongo.db(database).collection(collection).drop();
}
