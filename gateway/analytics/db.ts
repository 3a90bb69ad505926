import pg from 'pg';

/**
 * The gateway's only database access: a small pool whose sessions default to read-only, and every
 * query inside an explicit `READ ONLY` transaction. Two guards without a second set of credentials
 * to manage: a bug (or an injection, should one slip past the parameterised SQL) cannot write, and
 * one request's several statements see one snapshot (REPEATABLE READ), so the numbers on a page
 * agree with each other. Deployments that want a third guard point TRIBUTARY_GATEWAY_POSTGRES_URL
 * at a role with SELECT only (gateway/README.md has the SQL).
 */
export function createReadOnlyPool(
  url: string,
  opts: { max?: number; statementTimeoutMs?: number } = {},
): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: opts.max ?? 4,
    application_name: 'tributary-gateway',
    // startup options: every session of this pool is read-only and no query runs away
    options: `-c default_transaction_read_only=on -c statement_timeout=${opts.statementTimeoutMs ?? 10_000}`,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

export async function readOnly<T>(pool: pg.Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // a session that cannot even roll back is dropped instead of going back to the pool
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
