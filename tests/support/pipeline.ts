import type { MongoClient } from 'mongodb';
import type pg from 'pg';
import { goldRecord } from '../../consumers/processor/gold-record.ts';
import { mapRecord } from '../../producers/mapper.ts';
import type { EnrichmentJob, EnrichmentJobGold, Workspace } from '../../schemas/generated/types.ts';

/** What an end-to-end test compares: a gold record without processed_at (it differs per run). */
export type GoldContent = Omit<EnrichmentJobGold, 'processed_at'>;

/** Walks a source list endpoint to the end and keeps the latest valid version per id. */
async function latestFromFeed<T extends { id: string; updated_at: number }>(
  baseUrl: string,
  path: string,
  schema: 'workspace' | 'enrichment-job',
): Promise<Map<string, T>> {
  const latest = new Map<string, T>();
  let cursor: string | null = null;
  do {
    const url = new URL(`${baseUrl}${path}`);
    url.searchParams.set('limit', '500');
    if (cursor) url.searchParams.set('cursor', cursor);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const page = (await res.json()) as { data: unknown[]; next_cursor: string | null };
    for (const raw of page.data) {
      const mapped = mapRecord<T>(schema, raw);
      if (!mapped.ok) continue;
      const have = latest.get(mapped.record.id);
      if (!have || have.updated_at < mapped.record.updated_at) latest.set(mapped.record.id, mapped.record);
    }
    cursor = page.next_cursor;
  } while (cursor);
  return latest;
}

/** The gold the pipeline must converge to, computed straight from the source's API. */
export async function joinFromSource(baseUrl: string): Promise<Map<string, GoldContent>> {
  const workspaces = await latestFromFeed<Workspace>(baseUrl, '/v1/workspaces', 'workspace');
  const jobs = await latestFromFeed<EnrichmentJob>(baseUrl, '/v1/enrichment-jobs', 'enrichment-job');
  const out = new Map<string, GoldContent>();
  for (const job of jobs.values()) {
    const { processed_at: _, ...content } = goldRecord(job, workspaces.get(job.workspace_id), 0);
    out.set(job.id, content);
  }
  return out;
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());

export async function goldFromPostgres(pool: pg.Pool, jobIds: string[]): Promise<Map<string, GoldContent>> {
  const { rows } = await pool.query('select * from gold.enrichment_jobs where job_id = any($1::uuid[])', [
    jobIds,
  ]);
  return new Map(
    rows.map((r) => [
      r.job_id,
      {
        job_id: r.job_id,
        workspace_id: r.workspace_id,
        kind: r.kind,
        status: r.status,
        requested_count: r.requested_count,
        enriched_count: r.enriched_count,
        failed_count: r.failed_count,
        error_code: r.error_code,
        created_at: ms(r.created_at),
        finished_at: ms(r.finished_at),
        workspace_name: r.workspace_name,
        workspace_plan: r.workspace_plan,
        workspace_segment: r.workspace_segment,
        workspace_country: r.workspace_country,
        workspace_resolved: r.workspace_resolved,
        duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
        success_rate: r.success_rate,
        is_terminal: r.is_terminal,
        job_updated_at: ms(r.job_updated_at),
        workspace_updated_at: ms(r.workspace_updated_at),
      } as GoldContent,
    ]),
  );
}

export async function goldFromMongo(
  mongo: MongoClient,
  collection: string,
  jobIds: string[],
): Promise<Map<string, GoldContent>> {
  const docs = await mongo
    .db('tributary')
    .collection<{ _id: string } & Record<string, unknown>>(collection)
    .find({ _id: { $in: jobIds } })
    .toArray();
  return new Map(
    docs.map((d) => {
      const {
        _id,
        processed_at: _p,
        written_at: _w,
        source_partition: _sp,
        source_offset: _so,
        created_at,
        finished_at,
        job_updated_at,
        workspace_updated_at,
        ...rest
      } = d;
      return [
        _id,
        {
          ...rest,
          created_at: ms(created_at as Date),
          finished_at: ms(finished_at as Date | null),
          job_updated_at: ms(job_updated_at as Date),
          workspace_updated_at: ms(workspace_updated_at as Date | null),
        } as unknown as GoldContent,
      ];
    }),
  );
}
