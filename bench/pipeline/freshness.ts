import type { Collection, Document } from 'mongodb';
import type pg from 'pg';
import { percentile } from './analysis.ts';

/**
 * Freshness of gold: from the source's updated_at of the change (the newer of the job's and its
 * workspace's, since a workspace change re-emits its jobs) to the moment a gold store wrote the row:
 * Postgres `written_at` (now() of the sink's transaction, so a little early) and MongoDB
 * `written_at` (the sink's clock when it built the batch). Read once a second from rows written
 * since the previous read, with an overlap and de-duplication: a row written twice between two
 * reads counts once, with its latest write.
 */
export interface FreshnessSummary {
  store: 'postgres' | 'mongo';
  samples: number;
  p50: number | undefined;
  p99: number | undefined;
  max: number | undefined;
}

const OVERLAP_MS = 5000;

export function createFreshnessTracker(deps: {
  pool: pg.Pool;
  gold: Collection<Document>;
  /** only changes the source made in this window count (epoch ms) */
  window: () => { from: number; to: number };
}) {
  const values = { postgres: [] as number[], mongo: [] as number[] };
  const seen = { postgres: new Map<string, number>(), mongo: new Map<string, number>() };
  const cursor = { postgres: 0, mongo: 0 };

  function record(store: 'postgres' | 'mongo', id: string, writtenAt: number, sourceAt: number) {
    const key = `${id}@${writtenAt}`;
    if (seen[store].has(key)) return;
    seen[store].set(key, writtenAt);
    cursor[store] = Math.max(cursor[store], writtenAt);
    const w = deps.window();
    if (sourceAt >= w.from && sourceAt <= w.to) values[store].push(Math.round(writtenAt - sourceAt));
  }

  function prune(store: 'postgres' | 'mongo') {
    const floor = cursor[store] - 2 * OVERLAP_MS;
    for (const [k, at] of seen[store]) if (at < floor) seen[store].delete(k);
  }

  async function readPostgres() {
    cursor.postgres ||= deps.window().from;
    const since = new Date(Math.max(0, cursor.postgres - OVERLAP_MS));
    const { rows } = await deps.pool.query<{ job_id: string; w: string; s: string }>(
      `select job_id,
              (extract(epoch from written_at) * 1000)::float8 as w,
              (extract(epoch from greatest(job_updated_at, coalesce(workspace_updated_at, job_updated_at))) * 1000)::float8 as s
         from gold.enrichment_jobs where written_at > $1`,
      [since],
    );
    for (const r of rows) record('postgres', r.job_id, Number(r.w), Number(r.s));
    prune('postgres');
  }

  async function readMongo() {
    cursor.mongo ||= deps.window().from;
    const since = new Date(Math.max(0, cursor.mongo - OVERLAP_MS));
    const docs = await deps.gold
      .find(
        { written_at: { $gt: since } },
        { projection: { written_at: 1, job_updated_at: 1, workspace_updated_at: 1 } },
      )
      .toArray();
    for (const d of docs) {
      const j = (d.job_updated_at as Date).getTime();
      const w = (d.workspace_updated_at as Date | null)?.getTime() ?? j;
      record('mongo', String(d._id), (d.written_at as Date).getTime(), Math.max(j, w));
    }
    prune('mongo');
  }

  /**
   * Each store is read in its own loop, once a second at most: a store that answers slowly (busy
   * with a sink's backlog) delays only its own reads, never the stage samples.
   */
  const stop = new AbortController();
  const loops: Promise<void>[] = [];
  const errors: string[] = [];
  async function loop(read: () => Promise<void>) {
    while (!stop.signal.aborted) {
      const next = Date.now() + 1000;
      await read().catch((err: Error) => {
        if (errors.length < 5) errors.push(err.message);
      });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
    // the rows written since the last read
    await read().catch((err: Error) => errors.push(err.message));
  }

  return {
    start() {
      loops.push(loop(readPostgres), loop(readMongo));
    },
    async stop(): Promise<void> {
      stop.abort();
      await Promise.all(loops);
    },
    errors: () => errors,
    summary(): FreshnessSummary[] {
      return (['postgres', 'mongo'] as const).map((store) => ({
        store,
        samples: values[store].length,
        p50: percentile(values[store], 50),
        p99: percentile(values[store], 99),
        max: values[store].length ? values[store].reduce((a, b) => Math.max(a, b)) : undefined,
      }));
    },
  };
}
