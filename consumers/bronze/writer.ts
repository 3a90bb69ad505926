import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteQualified, splitQualified } from '../../common/pg-names.ts';
import { LINEAGE_COLUMNS } from './tables.ts';

export interface BronzeWriter {
  /**
   * Appends rows (lines of COPY text, record columns then lineage columns) in one transaction and
   * returns how many were new. Rows whose (topic, partition, offset) is already stored are skipped,
   * so writing the same messages again changes nothing.
   */
  write(lines: readonly string[]): Promise<number>;
}

const UNIQUE_VIOLATION = '23505';

/**
 * Two ways in, both one transaction per batch:
 * - direct: COPY straight into the bronze table, as fast as Postgres ingests. Offsets are committed
 *   after each batch, so a batch is normally all new; if any row is already there, the primary key
 *   makes the COPY fail and roll back whole, and the batch is written the staged way instead.
 * - staged: COPY into a per-connection temporary table, then INSERT … SELECT … ON CONFLICT (topic,
 *   partition, offset) DO NOTHING, which skips rows already stored (COPY itself cannot).
 * After a conflict the writer stays staged (a replay conflicts on every batch) until a staged batch
 * is all new again. Correctness never depends on the choice: the primary key decides.
 */
export function createBronzeWriter(deps: {
  pool: pg.Pool;
  table: string;
  recordColumns: readonly string[];
}): BronzeWriter {
  const columns = [...deps.recordColumns, ...LINEAGE_COLUMNS].map((c) => pg.escapeIdentifier(c)).join(', ');
  const [schema, name] = splitQualified(deps.table);
  const target = quoteQualified(schema, name);
  const stage = pg.escapeIdentifier(`stage_${schema}_${name}`);
  const staged = new WeakSet<pg.PoolClient>();
  let direct = true;

  const copy = (client: pg.PoolClient, table: string, text: string) =>
    pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));

  async function writeDirect(client: pg.PoolClient, text: string, rows: number): Promise<number | undefined> {
    await client.query('BEGIN');
    try {
      await copy(client, target, text);
      await client.query('COMMIT');
      return rows;
    } catch (err) {
      await client.query('ROLLBACK');
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw err;
    }
  }

  async function writeStaged(client: pg.PoolClient, text: string): Promise<number> {
    if (!staged.has(client)) {
      // ON COMMIT DELETE ROWS empties it at each commit, so nothing is carried between batches.
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
      );
      staged.add(client);
    }
    await client.query('BEGIN');
    try {
      await copy(client, stage, text);
      const inserted = await client.query(
        `INSERT INTO ${target} (${columns}) SELECT ${columns} FROM ${stage}
         ON CONFLICT (topic, partition, "offset") DO NOTHING`,
      );
      await client.query('COMMIT');
      return inserted.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }

  return {
    async write(lines) {
      if (lines.length === 0) return 0;
      const text = lines.join('');
      const client = await deps.pool.connect();
      let failed: Error | undefined;
      try {
        if (direct) {
          const written = await writeDirect(client, text, lines.length);
          if (written !== undefined) return written;
          direct = false;
        }
        const inserted = await writeStaged(client, text);
        direct = inserted === lines.length;
        return inserted;
      } catch (err) {
        failed = err as Error;
        throw err;
      } finally {
        // A connection that failed mid-COPY may be in any state: discard it rather than reuse it.
        client.release(failed);
      }
    },
  };
}
