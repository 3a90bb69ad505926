import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../common/kafka.ts';
import { createSchemaRegistry, registerValueSchema } from '../../common/registry.ts';
import { storeHash } from '../../ops/rebuild/content-hash.ts';
import { hashesOf, mongoHashes, postgresHashes, topicLatest } from '../../ops/rebuild/gold-contents.ts';
import { collectionExists } from '../../ops/rebuild/shadow-stores.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { job, workspace } from '../support/fixtures.ts';
import { testInfra, testLogger, uniqueName } from '../support/infra.ts';
import { runCli } from '../support/ops-cli.ts';
import { goldFixture } from '../support/ops-gold.ts';
import { publishRaw } from '../support/processor.ts';

const infra = testInfra();
const kafka = createKafka(infra.kafka, uniqueName('ops-rebuild-test'), testLogger);
const admin = kafka.admin();
const registry = createSchemaRegistry(infra.registry);
const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 3 });
const mongo = new MongoClient(infra.mongo.url);
const gold = goldFixture();
const T0 = Date.UTC(2026, 0, 1);

interface Diff {
  store: string;
  current: { records: number; hash: string };
  shadow: { records: number; hash: string };
  onlyCurrent: number;
  onlyShadow: number;
  differing: number;
}

async function contentHashes() {
  return {
    postgres: storeHash(await postgresHashes(pool, gold.table)),
    mongodb: storeHash(await mongoHashes(mongo, 'tributary', gold.collection)),
    topic: storeHash(hashesOf(await topicLatest({ kafka, admin, registry }, gold.topics.gold))),
  };
}

async function indexNames(table: string): Promise<string[]> {
  const [schema, name] = table.split('.');
  const { rows } = await pool.query(
    'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2',
    [schema, name],
  );
  return rows.map((r) => r.indexname).sort();
}

async function shadowLeftovers(): Promise<string[]> {
  const topics = (await admin.listTopics()).filter((t) => t.includes(`${gold.topics.gold}.shadow-`));
  const { rows } = await pool.query('SELECT to_regclass($1) AS t', [`${gold.table}_shadow`]);
  const shadowCollection = (await collectionExists(mongo, 'tributary', `${gold.collection}_shadow`))
    ? [`${gold.collection}_shadow`]
    : [];
  return [...topics, ...(rows[0].t ? [rows[0].t] : []), ...shadowCollection];
}

beforeAll(async () => {
  await admin.connect();
  await mongo.connect();
  await gold.create(admin, pool);
  // Workspaces with an update, jobs with versions, one job before its workspace, one whose workspace
  // never comes, and one version that breaks a rule (dead-lettered, not in gold).
  const [a, b] = [workspace({ updated_at: T0 }), workspace({ updated_at: T0, name: 'Beta' })];
  const jobs = [
    job({ workspace_id: a.id, updated_at: T0 + 1 }),
    job({ workspace_id: a.id, updated_at: T0 + 2, status: 'processing' }),
    job({ workspace_id: b.id, updated_at: T0 + 3, requested_count: 0 }),
    job({ updated_at: T0 + 4 }),
  ];
  const done = {
    ...jobs[1]!,
    status: 'completed' as const,
    enriched_count: 90,
    failed_count: 10,
    updated_at: T0 + 9,
    finished_at: T0 + 9,
  };
  const backward = { ...jobs[1]!, status: 'queued' as const, updated_at: T0 + 10 };
  await publishRaw(kafka, registry, gold.topics, [
    { job: jobs[0]! },
    { workspace: a },
    { job: jobs[1]! },
    { workspace: b },
    { job: jobs[2]! },
    { job: jobs[3]! },
    { workspace: { ...a, name: 'Alpha Renamed', plan: 'enterprise', updated_at: T0 + 5 } },
    { job: done },
    { job: backward },
  ]);
  await gold.run({ infra, kafka, admin, registry, pool, mongo }, 4);
});

afterAll(async () => {
  await gold.drop(admin, pool, mongo);
  await admin.disconnect();
  await pool.end();
  await mongo.close();
});

describe('tributary rebuild-gold', () => {
  it('rebuilds a shadow gold whose content equals the current gold, and leaves nothing behind without --yes', async () => {
    const before = await contentHashes();
    const result = await runCli(['rebuild-gold', '--json', ...gold.cliArgs], gold.env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.swapped).toBe(false);
    expect(report.shadowDeadLetters).toBe(1); // the backward status, as in the current pipeline
    const diffs = report.diffs as Diff[];
    expect(diffs.map((d) => d.store)).toEqual(['postgres', 'mongodb', 'topic']);
    for (const d of diffs) {
      expect(d, d.store).toMatchObject({ onlyCurrent: 0, onlyShadow: 0, differing: 0 });
      expect(d.current.records, d.store).toBe(4);
      expect(d.shadow.hash, d.store).toBe(d.current.hash);
    }
    // The report's hashes are those of the stores the options point at.
    expect(Object.fromEntries(diffs.map((d) => [d.store, d.current.hash]))).toEqual(before);
    expect(await shadowLeftovers()).toEqual([]);
    expect(await contentHashes()).toEqual(before);
  });

  it('reports what differs and, with --yes, swaps the shadow in for all three stores', async () => {
    const expected = await contentHashes();
    const indexesBefore = await indexNames(gold.table);
    // Damage the current gold: a changed and an extra row, a lost document, a changed and an extra record.
    const [victim] = (await pool.query(`SELECT job_id FROM ${gold.table} ORDER BY job_id LIMIT 1`)).rows;
    await pool.query(`UPDATE ${gold.table} SET workspace_name = 'tampered' WHERE job_id = $1`, [
      victim.job_id,
    ]);
    await pool.query(
      `INSERT INTO ${gold.table} SELECT (jsonb_populate_record(NULL::${gold.table}, to_jsonb(g) || jsonb_build_object('job_id', gen_random_uuid()))).* FROM ${gold.table} g LIMIT 1`,
    );
    await mongo.db('tributary').collection(gold.collection).deleteOne({ _id: victim.job_id });
    const latest = await topicLatest({ kafka, admin, registry }, gold.topics.gold);
    const record = latest.get(victim.job_id)!.record as unknown as EnrichmentJobGold;
    const id = await registerValueSchema(registry, gold.topics.gold, 'enrichment-job-gold');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: gold.topics.gold,
      messages: [
        { key: victim.job_id, value: await registry.encode(id, { ...record, workspace_name: 'tampered' }) },
        { key: 'not-a-real-job', value: await registry.encode(id, { ...record, job_id: 'not-a-real-job' }) },
      ],
    });
    await producer.disconnect();

    const result = await runCli(['rebuild-gold', '--yes', '--json', ...gold.cliArgs], gold.env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const diffs = Object.fromEntries((report.diffs as Diff[]).map((d) => [d.store, d]));
    expect(diffs.postgres).toMatchObject({ onlyCurrent: 1, onlyShadow: 0, differing: 1 });
    expect(diffs.mongodb).toMatchObject({ onlyCurrent: 0, onlyShadow: 1, differing: 0 });
    expect(diffs.topic).toMatchObject({ onlyCurrent: 1, onlyShadow: 0, differing: 1 });
    expect(report).toMatchObject({ swapped: true, topicSwap: { produced: 1, tombstones: 1 } });

    // After the swap every store holds the shadow's content, which is the undamaged gold.
    expect(await contentHashes()).toEqual(expected);
    expect(Object.fromEntries(Object.entries(diffs).map(([store, d]) => [store, d.shadow.hash]))).toEqual(
      expected,
    );
    expect(await indexNames(gold.table)).toEqual(indexesBefore);
    expect(await shadowLeftovers()).toEqual([]);
  });
});
