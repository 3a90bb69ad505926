import pg from 'pg';
import { InfraError, TributaryError } from '../common/errors.ts';
import { quoteQualified } from '../common/pg-names.ts';
import type { EntityName } from './wire.ts';

/**
 * Where the mock source keeps its world in Postgres: the tables of infra/migrations/4000_mock_source.sql
 * in the schema `mock_source`, or in another schema (TRIBUTARY_MOCK_SOURCE_SCHEMA: tests, two worlds side
 * by side) whose tables are created as copies of those (`LIKE … INCLUDING ALL`), so the migration stays
 * the one definition. One mock source per schema, enforced by an advisory lock held while it runs;
 * `tributary reset --topics` takes the same lock to empty the world.
 */
export const MIGRATED_SCHEMA = 'mock_source';

export const WORLD_TABLES = [
  'simulator',
  'workspaces',
  'enrichment_jobs',
  'workspace_versions',
  'enrichment_job_versions',
] as const;

/** the change feed of each entity: one row per version */
export const VERSIONS_TABLE: Record<EntityName, string> = {
  workspace: 'workspace_versions',
  'enrichment-job': 'enrichment_job_versions',
};

/** the current state of each record */
export const RECORDS_TABLE: Record<EntityName, string> = {
  workspace: 'workspaces',
  'enrichment-job': 'enrichment_jobs',
};

export const qualified = (schema: string, table: string) => quoteQualified(schema, table);

type Queryable = Pick<pg.ClientBase, 'query'>;

const LOCK_NAMESPACE = 'tributary.mock-source';

/** true when this session now holds the world's lock (session-level: released when it closes) */
export async function tryLockWorld(client: Queryable, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
    [LOCK_NAMESPACE, schema],
  );
  return rows[0]!.locked;
}

export async function unlockWorld(client: Queryable, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [LOCK_NAMESPACE, schema]);
}

async function missingTables(client: Queryable, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ t: string }>(
    "SELECT t FROM unnest($2::text[]) AS t WHERE to_regclass(format('%I.%I', $1::text, t)) IS NULL",
    [schema, WORLD_TABLES],
  );
  return rows.map((r) => r.t);
}

const notMigrated = (missing: string[]) =>
  new InfraError(
    `the mock source's tables are missing from Postgres (${missing.map((t) => `${MIGRATED_SCHEMA}.${t}`).join(', ')})`,
    {
      fix: 'run `npx tributary infra up` (it applies the migrations), or point TRIBUTARY_POSTGRES_URL at a migrated database',
    },
  );

/** Makes sure the world's tables exist in `schema`; call it holding the world's lock. */
export async function ensureWorldSchema(client: Queryable, schema: string): Promise<void> {
  const missing = await missingTables(client, schema);
  if (missing.length === 0) return;
  if (schema === MIGRATED_SCHEMA) throw notMigrated(missing);
  const template = await missingTables(client, MIGRATED_SCHEMA);
  if (template.length > 0) throw notMigrated(template);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  for (const table of missing) {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(schema, table)} (LIKE ${qualified(MIGRATED_SCHEMA, table)} INCLUDING ALL)`,
    );
  }
}

const running = (schema: string) =>
  new TributaryError(`a mock source is running on the world in Postgres schema ${schema}`, {
    retriable: true,
    fix: 'stop the mock-source role (tributary start, or mock-source/server.ts) and run the command again',
  });

/** Throws when a mock source holds the world of `schema`. */
export async function assertWorldIdle(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    if (!(await tryLockWorld(client, schema))) throw running(schema);
    await unlockWorld(client, schema);
  } finally {
    client.release();
  }
}

export interface WorldReset {
  schema: string;
  /** the versions the world had */
  versionsDeleted: number;
}

/**
 * Empties the world of `schema`, so the next mock source starts a new one from its seed. Refuses
 * while a mock source runs on it. Undefined when the schema holds no world tables at all (a
 * deployment without the mock source).
 */
export async function resetWorld(pool: pg.Pool, schema: string): Promise<WorldReset | undefined> {
  const client = await pool.connect();
  try {
    if ((await missingTables(client, schema)).length === WORLD_TABLES.length) return undefined;
    if (!(await tryLockWorld(client, schema))) throw running(schema);
    try {
      const { rows } = await client.query<{ versions: string | null }>(
        `SELECT sum(workspace_versions + job_versions)::text AS versions FROM ${qualified(schema, 'simulator')}`,
      );
      await client.query(`TRUNCATE ${WORLD_TABLES.map((t) => qualified(schema, t)).join(', ')}`);
      return { schema, versionsDeleted: Number(rows[0]?.versions ?? 0) };
    } finally {
      await unlockWorld(client, schema);
    }
  } finally {
    client.release();
  }
}
