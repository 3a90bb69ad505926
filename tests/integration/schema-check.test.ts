import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchemaCheckReport } from '../../ops/schema-check/check.ts';
import { deleteSubject, listSubjects } from '../../ops/subjects.ts';
import { testInfra, uniqueName } from '../support/infra.ts';
import { runCli } from '../support/ops-cli.ts';

/**
 * `tributary schema check` against the real registry, on a random subject (its compatibility set to
 * FULL on that subject only): a new optional field is accepted with a migration that really runs
 * on a copy of the bronze table; a removed required field and a type change are refused with the
 * registry's reasons, a non-zero exit, and nothing registered or written.
 */
const infra = testInfra();
const subject = `${uniqueName('schema-check')}-value`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-check-'));
const migrations = path.join(dir, 'migrations');
const pool = new pg.Pool({ connectionString: infra.postgres.url, max: 1 });
const copy = `bronze.${uniqueName('schema_check').replace('-', '_')}`;
const base = JSON.parse(fs.readFileSync('schemas/enrichment-job.avsc', 'utf8')) as {
  fields: Array<{ name: string; type: unknown; default?: unknown }>;
};

const V2_FIELDS = [
  ...base.fields,
  { name: 'priority', type: ['null', 'string'], default: null },
  { name: 'retried_at', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
];

const write = (name: string, fields: typeof base.fields) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ ...base, fields }, null, 2));
  return file;
};
const versions = async () =>
  (await listSubjects(infra.registry)).find((s) => s.subject === subject)?.versions ?? [];
const check = async (file: string, ...extra: string[]) => {
  const run = await runCli([
    'schema',
    'check',
    file,
    '--subject',
    subject,
    '--migrations-dir',
    migrations,
    ...extra,
  ]);
  return {
    ...run,
    report: run.stdout.startsWith('{') ? (JSON.parse(run.stdout) as SchemaCheckReport) : undefined,
  };
};

beforeAll(async () => {
  fs.mkdirSync(migrations);
  fs.writeFileSync(path.join(migrations, '4000_existing.sql'), '-- Up Migration\n-- Down Migration\n');
  const first = await check('schemas/enrichment-job.avsc', '--apply');
  expect(first.code, first.stderr).toBe(0);
  expect(await versions()).toEqual([1]);
  const res = await fetch(`${infra.registry.url}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: 'FULL' }),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await deleteSubject(infra.registry, subject);
  await pool.query(`DROP TABLE IF EXISTS ${copy}`);
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tributary schema check', () => {
  it('accepts a new optional field with the DDL it needs, and registers it only with --apply', async () => {
    const file = write('v2.avsc', [
      ...base.fields,
      { name: 'priority', type: ['null', 'string'], default: null },
      {
        name: 'retried_at',
        type: ['null', { type: 'long', logicalType: 'timestamp-millis' }],
        default: null,
      },
    ]);
    const { code, stderr, report } = await check(file, '--json');
    expect(code, stderr).toBe(0);
    expect(report!.registry.compatible).toBe(true);
    expect(report!.compatibilityLevel).toBe('FULL');
    expect(report!.accepted).toBe(true);
    expect(report!.changes.map((c) => [c.change, c.field])).toEqual([
      ['added', 'priority'],
      ['added', 'retried_at'],
    ]);
    expect(report!.plans).toEqual([
      {
        table: 'bronze.enrichment_jobs',
        up: [
          'ALTER TABLE bronze.enrichment_jobs ADD COLUMN IF NOT EXISTS priority text;',
          'ALTER TABLE bronze.enrichment_jobs ADD COLUMN IF NOT EXISTS retried_at timestamptz;',
        ],
        down: [
          'ALTER TABLE bronze.enrichment_jobs DROP COLUMN IF EXISTS retried_at;',
          'ALTER TABLE bronze.enrichment_jobs DROP COLUMN IF EXISTS priority;',
        ],
      },
    ]);
    expect(await versions()).toEqual([1]);
    expect(fs.readdirSync(migrations)).toEqual(['4000_existing.sql']);

    // the plan runs on a copy of the bronze table: two nullable columns, and back
    await pool.query(`CREATE TABLE ${copy} (LIKE bronze.enrichment_jobs INCLUDING ALL)`);
    const onCopy = (sql: string) => sql.replaceAll('bronze.enrichment_jobs', copy);
    const columns = async () =>
      (
        await pool.query(
          `SELECT column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'bronze' AND table_name = $1 AND column_name IN ('priority', 'retried_at')
            ORDER BY column_name`,
          [copy.split('.')[1]],
        )
      ).rows;
    for (const sql of report!.plans[0]!.up) await pool.query(onCopy(sql));
    expect(await columns()).toEqual([
      { column_name: 'priority', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'retried_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
    ]);
    for (const sql of report!.plans[0]!.down) await pool.query(onCopy(sql));
    expect(await columns()).toEqual([]);

    const applied = await check(file, '--apply');
    expect(applied.code, applied.stderr).toBe(0);
    expect(await versions()).toEqual([1, 2]);
    const written = fs.readdirSync(migrations).filter((f) => f !== '4000_existing.sql');
    expect(written).toEqual([expect.stringMatching(/^5000_schema_.*_v2\.sql$/)]);
    expect(fs.readFileSync(path.join(migrations, written[0]!), 'utf8')).toBe(report!.migration);
    expect(applied.stdout).toContain(`wrote ${path.join(migrations, written[0]!)}`);
  });

  it('refuses a removed required field and a type change with the registry reasons and a non-zero exit', async () => {
    const before = await versions();
    const migrationFiles = fs.readdirSync(migrations);
    const file = write(
      'bad.avsc',
      // against the latest version (v2, registered by the test above)
      V2_FIELDS.filter((f) => f.name !== 'failed_count').map((f) =>
        f.name === 'requested_count' ? { ...f, type: 'string' } : f,
      ),
    );
    const json = await check(file, '--json');
    expect(json.code).toBe(1);
    expect(json.report!.registry.compatible).toBe(false);
    const reasons = json.report!.registry.messages.join('\n');
    expect(reasons).toMatch(/failed_count/);
    expect(reasons).toMatch(/STRING not compatible with writer type: INT|INT not compatible/);
    expect(json.report!.changes.map((c) => [c.change, c.field])).toEqual([
      ['type', 'requested_count'],
      ['removed', 'failed_count'],
    ]);
    expect(json.report!.refused.map((r) => r.field)).toEqual(['requested_count']);
    expect(json.report!.plans).toEqual([]);

    const text = await check(file, '--apply');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('registry: NOT compatible');
    expect(text.stdout).toContain('✗ requested_count: type change int → string');
    expect(text.stdout).toContain('refused: nothing was changed');
    expect(await versions()).toEqual(before);
    expect(fs.readdirSync(migrations)).toEqual(migrationFiles);
  });
});
