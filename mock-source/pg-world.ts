import pg from 'pg';
import { InfraError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { JobState, WorkspaceState } from './generator.ts';
import { batchStatements, decodeWords } from './pg-batch.ts';
import { createPostgresFeed } from './pg-feed.ts';
import { ensureWorldSchema, qualified, tryLockWorld } from './pg-schema.ts';
import { type EntityName, stateFromWire } from './wire.ts';
import {
  NO_COUNTS,
  type SavedWorld,
  type SimulatorState,
  type TickBatch,
  type WorldCounts,
  type WorldStore,
} from './world.ts';

export interface PostgresWorldOptions {
  url: string;
  schema: string;
  logger?: Logger;
  /** connections for feed reads and tick writes (one write at a time) */
  poolSize?: number;
}

/**
 * The mock source's world in Postgres (tables: infra/migrations/4000_mock_source.sql). Opening it
 * takes the schema's advisory lock on a connection of its own, held until close: a second mock
 * source on the same world, or a reset while this one runs, is refused instead of corrupting it.
 * Each batch is one transaction, and the simulator row's `ticks` guards it, so a world changed
 * underneath (by anything) stops the writes instead of being overwritten.
 */
export async function openPostgresWorld(opts: PostgresWorldOptions): Promise<WorldStore> {
  const { schema, logger } = opts;
  const lock = new pg.Client({ connectionString: opts.url, application_name: 'tributary-mock-source-lock' });
  lock.on('error', (err) =>
    logger?.error({ err }, 'lost the Postgres session that holds the mock source world lock'),
  );
  try {
    await lock.connect();
  } catch (err) {
    throw new InfraError(
      `the mock source cannot reach Postgres to load its world: ${(err as Error).message}`,
      {
        cause: err,
        retriable: true,
        fix: 'start Postgres (npx tributary infra up) or set TRIBUTARY_POSTGRES_URL',
      },
    );
  }
  try {
    if (!(await tryLockWorld(lock, schema))) {
      throw new InfraError(`another mock source is running on the world in Postgres schema ${schema}`, {
        fix: 'stop the other mock source, or give this one its own TRIBUTARY_MOCK_SOURCE_SCHEMA',
      });
    }
    await ensureWorldSchema(lock, schema);
  } catch (err) {
    await lock.end().catch((e) => logger?.warn({ err: e }, 'closing the lock session failed'));
    throw err;
  }
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 4,
    application_name: 'tributary-mock-source',
  });
  pool.on('error', (err) => logger?.warn({ err }, 'idle Postgres connection of the mock source failed'));
  const table = (name: string) => qualified(schema, name);
  const simulator = table('simulator');

  async function storedTicks(): Promise<number | undefined> {
    const { rows } = await pool.query<{ ticks: string }>(`SELECT ticks FROM ${simulator}`);
    return rows[0] ? Number(rows[0].ticks) : undefined;
  }

  async function commit(batch: TickBatch): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const st of batchStatements(schema, batch)) {
        const { rows } = await client.query<Record<string, number>>(st.text, st.values);
        if (st.guarded && rows[0]!.applied !== 1) {
          await client.query('ROLLBACK');
          return await alreadyKept(batch);
        }
        for (const [cte, expected] of Object.entries(st.created)) {
          if (rows[0]![cte] !== expected) {
            throw new InfraError(
              `the mock source world in schema ${schema} lacks records it changed, or has records it just created (${rows[0]![cte]} inserted, ${expected} new)`,
            );
          }
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e) => logger?.warn({ err: e }, 'rollback failed'));
      throw err;
    } finally {
      client.release();
    }
  }

  /** the guard refused the batch: fine if an earlier attempt of it committed and its answer was lost */
  async function alreadyKept(batch: TickBatch): Promise<void> {
    const stored = await storedTicks();
    if (stored === batch.state.ticks) return;
    throw new InfraError(
      `the mock source world in schema ${schema} is at tick ${stored ?? 'none (emptied)'}, not at ${batch.previousTicks ?? 'none'} as this mock source expects: it was changed underneath`,
      { fix: 'restart the mock source: it continues the stored world' },
    );
  }

  async function load(): Promise<SavedWorld | undefined> {
    const { rows } = await pool.query(`SELECT * FROM ${simulator}`);
    if (rows.length === 0) return undefined;
    const state = stateFromRow(rows[0]);
    // a record whose latest version is valid has no state of its own: that version's JSON is it
    const current = (records: string, versions: string) =>
      `SELECT r.*, CASE WHEN r.state IS NULL THEN v.body END AS body
         FROM ${table(records)} r JOIN ${table(versions)} v ON v.updated_at = r.updated_at AND v.id = r.id`;
    const ws = await pool.query<CurrentRow<WorkspaceState>>(
      `${current('workspaces', 'workspace_versions')} ORDER BY r.seq`,
    );
    const active = await pool.query<CurrentRow<JobState> & { active_slot: number }>(
      `${current('enrichment_jobs', 'enrichment_job_versions')} WHERE r.active_slot IS NOT NULL ORDER BY r.active_slot`,
    );
    const repairs = await pool.query<{ entity: EntityName; state: WorkspaceState | JobState }>(
      `SELECT 'workspace' AS entity, state FROM ${table('workspaces')} WHERE malformed
       UNION ALL SELECT 'enrichment-job', state FROM ${table('enrichment_jobs')} WHERE malformed`,
    );
    const broken = active.rows.findIndex((r, i) => r.active_slot !== i);
    if (ws.rows.length !== state.counts.workspaces || broken >= 0) {
      throw new InfraError(`the mock source world in schema ${schema} is inconsistent`, {
        fix: 'reset it (npx tributary reset --topics) so that a new world begins',
      });
    }
    return {
      state,
      workspaces: ws.rows.map(currentState),
      activeJobs: active.rows.map(currentState),
      repairs: repairs.rows,
    };
  }

  async function counts(): Promise<WorldCounts> {
    const { rows } = await pool.query(`SELECT * FROM ${simulator}`);
    return rows[0] ? stateFromRow(rows[0]).counts : { ...NO_COUNTS };
  }

  let closing: Promise<void> | undefined;
  return {
    workspaces: createPostgresFeed(pool, schema, 'workspace'),
    jobs: createPostgresFeed(pool, schema, 'enrichment-job'),
    load,
    commit,
    counts,
    close() {
      closing ??= (async () => {
        await pool.end();
        await lock.end(); // releases the lock
      })();
      return closing;
    },
  };
}

interface CurrentRow<T> {
  state: T | null;
  body: Record<string, unknown> | null;
}

const currentState = <T extends WorkspaceState | JobState>(r: CurrentRow<T>): T =>
  r.state ?? stateFromWire<T>(r.body!);

function stateFromRow(row: Record<string, unknown>): SimulatorState {
  return {
    seed: Number(row.seed),
    lastTickAt: (row.last_tick_at as Date).getTime(),
    ticks: Number(row.ticks),
    rng: { words: decodeWords(row.rng_words as Buffer), index: Number(row.rng_index) },
    counts: {
      workspaces: Number(row.workspaces),
      jobs: Number(row.jobs),
      workspaceVersions: Number(row.workspace_versions),
      jobVersions: Number(row.job_versions),
      malformedVersions: Number(row.malformed_versions),
    },
  };
}
