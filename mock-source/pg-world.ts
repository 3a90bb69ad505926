import pg from 'pg';
import { InfraError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { JobState, WorkspaceState } from './generator.ts';
import { createPostgresFeed } from './pg-feed.ts';
import { ensureWorldSchema, qualified, RECORDS_TABLE, tryLockWorld, VERSIONS_TABLE } from './pg-schema.ts';
import type { StoredVersion } from './store.ts';
import { type EntityName, iso } from './wire.ts';
import {
  NO_COUNTS,
  type RecordChange,
  type SavedWorld,
  type SimulatorState,
  type TickBatch,
  type WorldCounts,
  type WorldStore,
} from './world.ts';

const ENTITIES: EntityName[] = ['workspace', 'enrichment-job'];
/** rows per statement: bounded parameters for the initial population, one statement for a tick */
const CHUNK = 5000;
const RNG_WORDS = 624;

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
      if (!(await writeState(client, simulator, batch))) {
        await client.query('ROLLBACK');
        // an earlier attempt of this very batch may have committed before its answer was lost
        const stored = await storedTicks();
        if (stored === batch.state.ticks) return;
        throw new InfraError(
          `the mock source world in schema ${schema} is at tick ${stored ?? 'none (emptied)'}, not at ${batch.previousTicks ?? 'none'} as this mock source expects: it was changed underneath`,
          { fix: 'restart the mock source: it continues the stored world' },
        );
      }
      for (const entity of ENTITIES) {
        await insertVersions(client, table(VERSIONS_TABLE[entity]), batch.versions[entity]);
        await upsertRecords(
          client,
          table(RECORDS_TABLE[entity]),
          entity,
          batch.records.filter((r) => r.entity === entity),
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e) => logger?.warn({ err: e }, 'rollback failed'));
      throw err;
    } finally {
      client.release();
    }
  }

  async function load(): Promise<SavedWorld | undefined> {
    const { rows } = await pool.query(`SELECT * FROM ${simulator}`);
    if (rows.length === 0) return undefined;
    const state = stateFromRow(rows[0]);
    const ws = await pool.query<{ state: WorkspaceState }>(
      `SELECT state FROM ${table('workspaces')} ORDER BY seq`,
    );
    const active = await pool.query<{ state: JobState; active_slot: number }>(
      `SELECT state, active_slot FROM ${table('enrichment_jobs')} WHERE active_slot IS NOT NULL ORDER BY active_slot`,
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
      workspaces: ws.rows.map((r) => r.state),
      activeJobs: active.rows.map((r) => r.state),
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

/** Writes the simulator row; false when the stored world is not the one the batch follows. */
async function writeState(client: pg.PoolClient, simulator: string, batch: TickBatch): Promise<boolean> {
  const s = batch.state;
  const values = [
    iso(s.lastTickAt),
    s.ticks,
    encodeWords(s.rng.words),
    s.rng.index,
    s.counts.workspaces,
    s.counts.jobs,
    s.counts.workspaceVersions,
    s.counts.jobVersions,
    s.counts.malformedVersions,
  ];
  if (batch.previousTicks === undefined) {
    const { rowCount } = await client.query(
      `INSERT INTO ${simulator} (last_tick_at, ticks, rng_words, rng_index, workspaces, jobs,
         workspace_versions, job_versions, malformed_versions, seed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [...values, s.seed],
    );
    return rowCount === 1;
  }
  const { rowCount } = await client.query(
    `UPDATE ${simulator} SET last_tick_at = $1, ticks = $2, rng_words = $3, rng_index = $4, workspaces = $5,
       jobs = $6, workspace_versions = $7, job_versions = $8, malformed_versions = $9
     WHERE ticks = $10`,
    [...values, batch.previousTicks],
  );
  return rowCount === 1;
}

async function insertVersions(client: pg.PoolClient, table: string, versions: StoredVersion[]) {
  for (let i = 0; i < versions.length; i += CHUNK) {
    const chunk = versions.slice(i, i + CHUNK);
    await client.query(
      `INSERT INTO ${table} (updated_at, id, malformed, body)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::boolean[], $4::json[])`,
      [
        chunk.map((v) => iso(v.updatedAt)),
        chunk.map((v) => v.id),
        chunk.map((v) => v.malformed),
        chunk.map((v) => JSON.stringify(v.body)),
      ],
    );
  }
}

async function upsertRecords(client: pg.PoolClient, table: string, entity: EntityName, rows: RecordChange[]) {
  const jobs = entity === 'enrichment-job';
  const slot = jobs ? ', active_slot' : '';
  const created = rows.filter((r) => r.seq >= 0);
  const changed = rows.filter((r) => r.seq < 0);
  const columns = (chunk: RecordChange[]) => {
    const values: unknown[] = [
      chunk.map((r) => r.id),
      chunk.map((r) => JSON.stringify(r.state)),
      chunk.map((r) => iso(r.state.updated_at)),
      chunk.map((r) => r.malformed),
    ];
    if (jobs) values.push(chunk.map((r) => r.activeSlot));
    return values;
  };
  const arrays = `$1::text[], $2::jsonb[], $3::timestamptz[], $4::boolean[]${jobs ? ', $5::integer[]' : ''}`;
  for (let i = 0; i < created.length; i += CHUNK) {
    const chunk = created.slice(i, i + CHUNK);
    await client.query(
      `INSERT INTO ${table} (id, state, updated_at, malformed${slot}, seq)
       SELECT * FROM unnest(${arrays}, $${jobs ? 6 : 5}::bigint[])`,
      [...columns(chunk), chunk.map((r) => r.seq)],
    );
  }
  for (let i = 0; i < changed.length; i += CHUNK) {
    const chunk = changed.slice(i, i + CHUNK);
    const { rowCount } = await client.query(
      `UPDATE ${table} AS r SET state = u.state, updated_at = u.updated_at, malformed = u.malformed${jobs ? ', active_slot = u.active_slot' : ''}
         FROM unnest(${arrays}) AS u(id, state, updated_at, malformed${slot})
        WHERE r.id = u.id`,
      columns(chunk),
    );
    if (rowCount !== chunk.length) {
      throw new InfraError(`${chunk.length - (rowCount ?? 0)} records of ${table} to update are not stored`);
    }
  }
}

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

function encodeWords(words: Int32Array): Buffer {
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => {
    buf.writeInt32LE(w, i * 4);
  });
  return buf;
}

function decodeWords(buf: Buffer): Int32Array {
  if (buf.length !== RNG_WORDS * 4)
    throw new InfraError(`the stored generator state has ${buf.length} bytes`);
  const words = new Int32Array(RNG_WORDS);
  for (let i = 0; i < RNG_WORDS; i++) words[i] = buf.readInt32LE(i * 4);
  return words;
}
