import pg from 'pg';
import {
  createPostgresGoldSink,
  type GoldSink,
  UPSERT_SQL,
} from '../../consumers/gold-sinks/postgres-sink.ts';
import { splitTable } from './names.ts';

/**
 * The real Postgres gold sink (its column mapping and version guard) writing to another table than
 * gold.enrichment_jobs: the shadow table of a rebuild, or a test's table. The sink's statement names
 * its table as a constant, so the statement is rewritten here; if that statement ever changes shape
 * this fails at once instead of writing to the wrong table.
 *
 * TODO(gold-sinks): replace with a `table` option of createPostgresGoldSink when it has one.
 */
const TARGET = 'INSERT INTO gold.enrichment_jobs AS g';

export function createTableGoldSink(pool: pg.Pool, table: string): GoldSink {
  if (!UPSERT_SQL.includes(TARGET)) {
    throw new Error(
      'consumers/gold-sinks/postgres-sink.ts changed its statement: update ops/rebuild/table-sink.ts',
    );
  }
  const [schema, name] = splitTable(table);
  const sql = UPSERT_SQL.replace(
    TARGET,
    `INSERT INTO ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)} AS g`,
  );
  const redirected = {
    query: (text: string, params: unknown[]) => pool.query(text === UPSERT_SQL ? sql : text, params),
  };
  return createPostgresGoldSink({ pool: redirected as unknown as pg.Pool });
}
