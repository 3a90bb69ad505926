import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Log } from './toolchain.ts';

/** Versioned SQL files in infra/migrations, applied in order by node-pg-migrate. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export async function migrate(databaseUrl: string, log: Log): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    migrationsSchema: 'public',
    checkOrder: true,
    log: () => {},
    noLock: false,
    // Two `up`s at once (two test runs, or `start` during `infra up`) wait for each other's
    // migrations instead of failing with "Another migration is already running".
    advisoryLockMode: 'wait',
  });
  if (applied.length > 0) log(`postgres: applied migrations ${applied.map((m) => m.name).join(', ')}`);
  return applied.map((m) => m.name);
}
