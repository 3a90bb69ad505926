import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import { waitFor } from '../../common/wait-for.ts';
import { down, localServices, reset, up } from '../../infra/runner.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import { testLogger } from '../support/infra.ts';
import { consumeUntil, createTopics } from '../support/kafka.ts';
import { testInfraEnv } from '../support/test-env.ts';

/**
 * Its own infrastructure instance (own data folder and ports), because it kills every server:
 * the shared test instance keeps serving the other test files meanwhile.
 */
const env = testInfraEnv(process.env, { name: 'test-restart', portOffset: 200 });
const opts = infraOptions(env);
const log = () => {};

describe('local infrastructure restarts', () => {
  beforeAll(async () => {
    await reset(opts, log);
    await up(opts, log);
  });
  afterAll(async () => {
    await down(opts, log);
  });

  it('brings every server back with its data after kill -9, and status --json reports them healthy', async () => {
    const topic = `restart-${randomUUID().slice(0, 8)}`;
    const id = randomUUID();
    const kafka = createKafka(opts.kafka, 'restart-test', testLogger);
    const registry = createSchemaRegistry(opts.registry);

    // Write something into each server.
    const pool = new pg.Pool({ connectionString: opts.postgres.url, max: 1 });
    await pool.query('create table if not exists public.restart_probe (id uuid primary key)');
    await pool.query('insert into public.restart_probe (id) values ($1)', [id]);
    await pool.end();
    const mongo = new MongoClient(opts.mongo.url);
    await mongo.connect();
    await mongo
      .db('tributary')
      .collection('restart_probe')
      .insertOne({ _id: id as never, at: new Date() });
    await mongo.close();
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: 'dev.tributary.test',
      fields: [{ name: 'id', type: 'string' }],
    };
    const { id: schemaId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `${topic}-value` },
    );
    const admin = kafka.admin();
    await admin.connect();
    // `up` on a fresh broker made it create its internal topics (no group or transaction has run yet).
    expect(await admin.listTopics()).toEqual(
      expect.arrayContaining(['__consumer_offsets', '__transaction_state']),
    );
    await createTopics(admin, [{ topic, partitions: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: id, value: await registry.encode(schemaId, { id }) }] });
    await producer.disconnect();

    // kill -9 all four.
    for (const s of localServices(opts)) {
      const pid = s.pid();
      expect(pid, `${s.name} should be running`).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      await waitFor(() => s.pid() === undefined || s.pid() !== pid, {
        timeoutMs: 30_000,
        what: `${s.name} to die`,
      });
    }

    const rows = await up(opts, log);
    expect(rows.map((r) => [r.name, r.healthy])).toEqual([
      ['kafka', true],
      ['registry', true],
      ['postgres', true],
      ['mongodb', true],
    ]);

    // The data survived.
    const pool2 = new pg.Pool({ connectionString: opts.postgres.url, max: 1 });
    expect((await pool2.query('select id from public.restart_probe where id = $1', [id])).rowCount).toBe(1);
    await pool2.end();
    const mongo2 = new MongoClient(opts.mongo.url);
    await mongo2.connect();
    expect(
      await mongo2
        .db('tributary')
        .collection('restart_probe')
        .countDocuments({ _id: id as never }),
    ).toBe(1);
    await mongo2.close();
    const registry2 = createSchemaRegistry(opts.registry);
    expect(await registry2.getLatestSchemaId(`${topic}-value`)).toBe(schemaId);
    const records = await consumeUntil(kafka, [topic], (r) => r.length >= 1, { registry: registry2 });
    expect(records.map((r) => r.value)).toEqual([{ id }]);

    // The CLI reports the same instance healthy as JSON.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/tributary.mjs', 'infra', 'status', '--json'],
      { env },
    );
    const status = JSON.parse(stdout) as Array<{ name: string; healthy: boolean; local: boolean }>;
    expect(status.map((s) => [s.name, s.healthy, s.local])).toEqual([
      ['kafka', true, true],
      ['registry', true, true],
      ['postgres', true, true],
      ['mongodb', true, true],
    ]);
  });
});
