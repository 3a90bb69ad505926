import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { waitFor } from '../../common/wait-for.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';

const infra = testInfra();

describe('infrastructure smoke', () => {
  it('produces and consumes an Avro record through the schema registry', async () => {
    const topic = uniqueName('smoke-avro');
    const kafka = createKafka(infra.kafka, uniqueName('smoke'), testLogger);
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    const registry = new SchemaRegistry({ host: infra.registry.url });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const { id } = await registry.register(
        {
          type: SchemaType.AVRO,
          schema: JSON.stringify({
            type: 'record',
            name: 'Smoke',
            namespace: 'dev.tributary.test',
            fields: [
              { name: 'id', type: 'string' },
              { name: 'n', type: 'int' },
            ],
          }),
        },
        { subject: `${topic}-value` },
      );
      const value = await registry.encode(id, { id: 'abc', n: 42 });
      expect(value.readUInt8(0)).toBe(0); // Confluent wire format: magic byte, then the schema id
      expect(value.readUInt32BE(1)).toBe(id);

      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'abc', value }] });

      const received: unknown[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(await registry.decode(message.value!));
        },
      });
      await waitFor(() => received.length === 1, {
        timeoutMs: 30_000,
        what: 'the Avro record to be consumed',
      });
      expect(received[0]).toEqual({ id: 'abc', n: 42 });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });

  describe('databases', () => {
    let pool: pg.Pool;
    let mongo: MongoClient;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: infra.postgres.url, max: 2 });
      mongo = new MongoClient(infra.mongo.url);
      await mongo.connect();
    });
    afterAll(async () => {
      await pool.end();
      await mongo.close();
    });

    it('writes and reads Postgres through pg, with the layer schemas migrated', async () => {
      const table = uniqueName('smoke').replace('-', '_');
      await pool.query(`create table ${table} (id uuid primary key, payload jsonb not null)`);
      const id = randomUUID();
      await pool.query(`insert into ${table} (id, payload) values ($1, $2)`, [id, { hello: 'world' }]);
      const { rows } = await pool.query(`select payload from ${table} where id = $1`, [id]);
      expect(rows).toEqual([{ payload: { hello: 'world' } }]);
      const schemas = await pool.query(
        "select schema_name from information_schema.schemata where schema_name in ('bronze','gold') order by 1",
      );
      expect(schemas.rows.map((r) => r.schema_name)).toEqual(['bronze', 'gold']);
      await pool.query(`drop table ${table}`);
    });

    it('writes and reads MongoDB through the official driver, including upserts and indexes', async () => {
      const coll = mongo.db('tributary').collection<{ _id: string; v: number }>(uniqueName('smoke'));
      await coll.createIndex({ v: 1 });
      const res = await coll.bulkWrite(
        [
          { updateOne: { filter: { _id: 'a' }, update: { $set: { v: 1 } }, upsert: true } },
          { updateOne: { filter: { _id: 'b' }, update: { $set: { v: 2 } }, upsert: true } },
          { updateOne: { filter: { _id: 'a' }, update: { $set: { v: 3 } }, upsert: true } },
        ],
        { ordered: false },
      );
      expect(res.upsertedCount).toBe(2);
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'a', v: 3 },
        { _id: 'b', v: 2 },
      ]);
      await coll.drop();
    });
  });
});
