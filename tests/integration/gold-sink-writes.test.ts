import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMongoGoldSink,
  type GoldDocument,
  toGoldDocument,
} from '../../consumers/gold-sinks/mongo-sink.ts';
import { createPostgresGoldSink } from '../../consumers/gold-sinks/postgres-sink.ts';
import type { GoldRecord } from '../../consumers/gold-sinks/version.ts';
import { goldRecord } from '../support/consumer-fixtures.ts';
import { testInfra, uniqueName } from '../support/infra.ts';

const infra = testInfra();
const T = Date.UTC(2026, 3, 1);

/**
 * The gold sinks' write paths called directly, on a private table and collection: mixed batches,
 * redeliveries, large batches, and another writer racing the MongoDB sink between its read and its
 * write (what a zombie instance does). The store must end with the topic's latest record per key,
 * i.e. the record with the greatest (partition, offset).
 */
describe('gold sink writes', () => {
  const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
  const mongo = new MongoClient(infra.mongo.url);
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(() => mongo.connect());
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  afterAll(async () => {
    await pool.end();
    await mongo.close();
  });

  async function stores() {
    const table = `public.${uniqueName('gold_writes').replace('-', '_')}`;
    await pool.query(`CREATE TABLE ${table} (LIKE gold.enrichment_jobs INCLUDING ALL)`);
    const collection = mongo.db('tributary').collection<GoldDocument>(uniqueName('gold_writes'));
    cleanups.push(
      () => pool.query(`DROP TABLE IF EXISTS ${table}`),
      () => collection.drop().catch(() => false), // never created when a test failed early: nothing to drop
    );
    const mongoSink = createMongoGoldSink({ collection });
    await mongoSink.ensureIndexes();
    return { table, collection, pgSink: createPostgresGoldSink({ pool, table }), mongoSink };
  }

  const rec = (id: string, offset: number, jobUpdatedAt: number, partition = 0, status = 'processing') =>
    ({
      value: goldRecord(id, T + jobUpdatedAt, null, { status: status as GoldRecord['value']['status'] }),
      partition,
      offset: String(offset),
    }) satisfies GoldRecord;

  /** What each store holds per id: position, status, job_updated_at, written_at. */
  async function contents(table: string, collection: Collection<GoldDocument>) {
    const rows = (
      await pool.query(
        `SELECT job_id, source_partition, source_offset, status, job_updated_at, written_at FROM ${table} ORDER BY job_id`,
      )
    ).rows.map((r) => ({
      id: r.job_id as string,
      at: `${r.source_partition}:${r.source_offset}`,
      status: r.status,
      job_updated_at: r.job_updated_at,
    }));
    const docs = (await collection.find({}).sort({ _id: 1 }).toArray()).map((d) => ({
      id: d._id,
      at: `${d.source_partition}:${d.source_offset}`,
      status: d.status,
      job_updated_at: d.job_updated_at,
    }));
    const writtenAt = {
      postgres: (await pool.query(`SELECT job_id, written_at FROM ${table} ORDER BY job_id`)).rows,
      mongo: await collection
        .find({}, { projection: { written_at: 1 } })
        .sort({ _id: 1 })
        .toArray(),
    };
    return { rows, docs, writtenAt };
  }

  /** The topic's latest record per key, as the stores should show it. */
  const expected = (records: GoldRecord[]) => {
    const latest = new Map<string, GoldRecord>();
    for (const r of records) {
      const seen = latest.get(r.value.job_id);
      if (
        !seen ||
        r.partition > seen.partition ||
        (r.partition === seen.partition && Number(r.offset) > Number(seen.offset))
      )
        latest.set(r.value.job_id, r);
    }
    return [...latest.values()]
      .map((r) => ({
        id: r.value.job_id,
        at: `${r.partition}:${r.offset}`,
        status: r.value.status,
        job_updated_at: new Date(r.value.job_updated_at),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  };

  it('a batch of [newer, stale, new, newer of the same key] ends with the topic latest per key; a redelivery changes nothing', async () => {
    const { table, collection, pgSink, mongoSink } = await stores();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const first = [rec(a, 10, 5), rec(b, 11, 5)];
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(first)).toBe(2);

    const batch = [
      rec(a, 20, 1, 0, 'completed'), // newer on the topic (older timestamps)
      rec(b, 5, 9), // stale: earlier on the topic (newer timestamps)
      rec(c, 21, 3), // new key
      rec(a, 22, 2, 0, 'failed'), // newer again, same key, same batch
    ];
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(batch)).toBe(2);
    const want = expected([...first, ...batch]);
    const after = await contents(table, collection);
    expect(after.rows).toEqual(want);
    expect(after.docs).toEqual(want);
    expect(after.rows.find((r) => r.id === a)).toMatchObject({ at: '0:22', status: 'failed' });

    // The same batch delivered again (a crash before the commit): nothing is written, not even written_at.
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(batch)).toBe(0);
    expect(await contents(table, collection)).toEqual(after);
  });

  it('writes a batch of 5,000 records in one call: new, then all later, then replayed', async () => {
    const { table, collection, pgSink, mongoSink } = await stores();
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    // Three partitions, as the gold topic: each id on one partition.
    const round = (base: number) => ids.map((id, i) => rec(id, base + i, base + i, i % 3));
    const inserts = round(0);
    const updates = round(10_000);
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(inserts)).toBe(5000);
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(updates)).toBe(5000);
    for (const sink of [pgSink, mongoSink]) expect(await sink.write(inserts)).toBe(0);
    const want = expected([...inserts, ...updates]);
    const got = await contents(table, collection);
    expect(got.rows).toEqual(want);
    expect(got.docs).toEqual(want);
  });

  /**
   * The MongoDB sink reads positions, decides, then writes. `race` runs once right after the sink's
   * first read: what another writer (a zombie, or the partition's new owner) does in between.
   */
  function racedSink(collection: Collection<GoldDocument>, race: () => Promise<unknown>) {
    let raced = false;
    const proxy = new Proxy(collection, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'find') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: Parameters<Collection<GoldDocument>['find']>) => {
          const cursor = target.find(...args);
          const toArray = cursor.toArray.bind(cursor);
          return Object.assign(cursor, {
            toArray: async () => {
              const docs = await toArray();
              if (!raced) {
                raced = true;
                await race();
              }
              return docs;
            },
          });
        };
      },
    });
    return createMongoGoldSink({ collection: proxy });
  }

  it('MongoDB: another writer between read and write never makes the store go back on the topic', async () => {
    const { collection, mongoSink } = await stores();
    const [stored, racedInsert, racedLater, racedEarlier] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await mongoSink.write([rec(racedLater, 10, 1), rec(racedEarlier, 10, 1), rec(stored, 10, 1)]);
    const now = new Date();
    const sink = racedSink(collection, async () => {
      // The other writer inserts a key this batch thought new, with a LATER record …
      await collection.insertOne(toGoldDocument(rec(racedInsert, 50, 1, 0, 'completed'), now));
      // … replaces one with a LATER record than the batch's (the new owner, ahead) …
      await collection.replaceOne(
        { _id: racedLater },
        toGoldDocument(rec(racedLater, 40, 1, 0, 'completed'), now),
      );
      // … and one with a record later than stored but EARLIER than the batch's (a zombie, behind).
      await collection.replaceOne(
        { _id: racedEarlier },
        toGoldDocument(rec(racedEarlier, 15, 1, 0, 'failed'), now),
      );
    });
    const batch = [
      rec(racedInsert, 30, 9),
      rec(racedLater, 30, 9),
      rec(racedEarlier, 30, 9),
      rec(stored, 30, 9),
    ];
    // Written: racedEarlier (re-read, still wins) and stored; the other two lost to later records.
    expect(await sink.write(batch)).toBe(2);
    const docs = await collection.find({}, { projection: { source_offset: 1, status: 1 } }).toArray();
    expect(Object.fromEntries(docs.map((d) => [d._id, [d.source_offset, d.status]]))).toEqual({
      [racedInsert]: [50, 'completed'],
      [racedLater]: [40, 'completed'],
      [racedEarlier]: [30, 'processing'],
      [stored]: [30, 'processing'],
    });
  });
});
