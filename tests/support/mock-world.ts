import pg from 'pg';
import { uniqueName } from './infra.ts';

/**
 * A Postgres schema of its own for each mock source world a test creates (the mock source copies
 * the migrated `mock_source` tables into it), and its removal.
 */
export const mockWorldSchema = () => uniqueName('mock_world').replace(/-/g, '_');

export async function dropMockWorlds(postgresUrl: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    for (const schema of schemas)
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
