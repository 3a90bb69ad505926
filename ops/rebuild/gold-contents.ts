import { createHash } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { quoteQualified as qualified } from '../../common/pg-names.ts';
import { readRanges, wholeTopics } from '../../common/topic-reader.ts';
import { recordHash, VOLATILE_FIELDS } from './content-hash.ts';

/**
 * The content of a gold store as id → record hash (see content-hash.ts). Postgres hashes in SQL (its
 * jsonb text is canonical), MongoDB and the topic in this process. Everything is held in memory:
 * fine for millions of jobs, a few hundred bytes each.
 */
export async function postgresHashes(pool: pg.Pool, table: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; h: string }>(
    `SELECT job_id::text AS id, md5((to_jsonb(t) - $1::text[])::text) AS h FROM ${qualified(table)} t`,
    [VOLATILE_FIELDS],
  );
  return new Map(rows.map((r) => [r.id, r.h]));
}

export async function mongoHashes(
  mongo: MongoClient,
  database: string,
  collection: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const cursor = mongo.db(database).collection(collection).find({});
  for await (const doc of cursor) out.set(String(doc._id), recordHash(doc));
  return out;
}

export interface LatestRecord {
  hash: string;
  /** the decoded gold record (null when its value could not be decoded) */
  record: Record<string, unknown> | null;
}

/** The latest value per key of a gold topic (keys whose latest value is a tombstone are absent). */
export async function topicLatest(
  deps: { kafka: Kafka; admin: Admin; registry: Pick<SchemaRegistry, 'decode'> },
  topic: string,
): Promise<Map<string, LatestRecord>> {
  const latest = new Map<string, LatestRecord>();
  await readRanges(deps, await wholeTopics(deps.admin, [topic]), async ({ message }) => {
    const key = message.key?.toString();
    if (key === undefined) return undefined;
    if (message.value === null) {
      latest.delete(key);
      return undefined;
    }
    try {
      const record = (await deps.registry.decode(message.value)) as Record<string, unknown>;
      latest.set(key, { hash: recordHash(record), record });
    } catch {
      latest.set(key, {
        hash: `undecodable:${createHash('sha256').update(message.value).digest('hex')}`,
        record: null,
      });
    }
    return undefined;
  });
  return latest;
}

export const hashesOf = (latest: ReadonlyMap<string, LatestRecord>) =>
  new Map([...latest].map(([k, v]) => [k, v.hash]));
