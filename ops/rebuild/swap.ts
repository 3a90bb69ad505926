import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Kafka, type Message, Partitioners } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import pg from 'pg';
import { TributaryError } from '../../common/errors.ts';
import { createTopicLimits, sendWithinLimits } from '../../common/kafka-limits.ts';
import { quoteQualified as qualified, splitQualified } from '../../common/pg-names.ts';
import { registerValueSchema } from '../../common/registry.ts';
import { UNKNOWN_OFFSET } from '../../consumers/gold-sinks/version.ts';
import type { LatestRecord } from './gold-contents.ts';

/**
 * Puts a rebuilt shadow gold in place of the current one, store by store.
 *
 * Postgres: in ONE transaction, the current table is dropped and the shadow renamed to its name,
 * and the shadow's indexes get the current indexes' names back (matched by definition), so readers
 * see the old table or the new one, never neither, and later migrations find the names they know.
 *
 * The shadow's rows carry positions on the shadow topic, which mean nothing on the real gold topic
 * the sinks read next: they are marked unknown (consumers/gold-sinks/version.ts), so the first
 * record of the real topic replaces each row, whatever its offset.
 */
export async function swapPostgres(pool: pg.Pool, current: string, shadow: string): Promise<void> {
  const [, name] = splitQualified(current);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${qualified(current)}, ${qualified(shadow)} IN ACCESS EXCLUSIVE MODE`);
    const before = await indexes(client, current);
    const after = await indexes(client, shadow);
    await client.query(`UPDATE ${qualified(shadow)} SET source_offset = $1`, [UNKNOWN_OFFSET]);
    await client.query(`DROP TABLE ${qualified(current)}`).catch((err: Error) => {
      throw new TributaryError(`cannot replace ${current}: ${err.message}`, {
        fix: 'drop the objects that depend on the table (views…), swap, then recreate them',
        cause: err,
      });
    });
    await client.query(`ALTER TABLE ${qualified(shadow)} RENAME TO ${pg.escapeIdentifier(name)}`);
    const [schema] = splitQualified(current);
    for (const [shape, shadowName] of after) {
      const original = before.get(shape);
      if (original && original !== shadowName) {
        await client.query(
          `ALTER INDEX ${qualified(schema, shadowName)} RENAME TO ${pg.escapeIdentifier(original)}`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    // The swap's own error is what the caller must see. A ROLLBACK that fails leaves a broken
    // connection: it is destroyed below, and the server rolls back a session that ends.
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** index definition without its name and table (e.g. `UNIQUE USING btree (job_id)`) → index name */
async function indexes(client: pg.PoolClient, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass`,
    [qualified(table)],
  );
  const out = new Map<string, string>();
  for (const r of rows) {
    const m = /^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (.*)$/.exec(r.def);
    if (m) out.set(`${m[1] ?? ''}${m[2]}`, r.name);
  }
  return out;
}

/**
 * MongoDB: renameCollection with dropTarget (atomic on MongoDB; supported by mongo-java-server),
 * after marking the shadow's positions unknown as for Postgres.
 */
export async function swapMongo(
  mongo: MongoClient,
  database: string,
  current: string,
  shadow: string,
): Promise<void> {
  await mongo
    .db(database)
    .collection(shadow)
    .updateMany({}, { $set: { source_offset: UNKNOWN_OFFSET } });
  await mongo.db(database).collection(shadow).rename(current, { dropTarget: true });
}

/**
 * The gold topic is the contract of external consumers and cannot be renamed: the shadow's latest
 * record of every key whose latest value differs is produced to it, and a tombstone for every key
 * the shadow does not have, so that afterwards the latest value per key equals the shadow's.
 */
export async function swapTopic(
  deps: { kafka: Kafka; registry: SchemaRegistry },
  goldTopic: string,
  current: ReadonlyMap<string, LatestRecord>,
  shadow: ReadonlyMap<string, LatestRecord>,
): Promise<{ produced: number; tombstones: number }> {
  const schemaId = await registerValueSchema(deps.registry, goldTopic, 'enrichment-job-gold');
  const messages: Message[] = [];
  let produced = 0;
  for (const [key, s] of shadow) {
    if (current.get(key)?.hash === s.hash || s.record === null) continue;
    messages.push({ key, value: await deps.registry.encode(schemaId, s.record) });
    produced++;
  }
  for (const key of current.keys()) if (!shadow.has(key)) messages.push({ key, value: null });
  if (messages.length > 0) {
    // The partitioner the pipeline's producers use, so each key lands in the partition it lives in.
    const producer = deps.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      await sendWithinLimits(
        createTopicLimits({ kafka: deps.kafka }),
        [{ topic: goldTopic, messages }],
        (topicMessages) => producer.sendBatch({ acks: -1, topicMessages }),
      );
    } finally {
      await producer.disconnect();
    }
  }
  return { produced, tombstones: messages.length - produced };
}
