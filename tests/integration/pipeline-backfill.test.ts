import { describe, expect, it } from 'vitest';
import { waitFor } from '../../common/wait-for.ts';
import { joinFromSource } from '../support/pipeline.ts';
import { expectBronzeComplete, expectGoldEverywhere, usePipelineRun } from '../support/pipeline-run.ts';

/**
 * The load issue's correctness test (timing is measured in bench/pipeline.ts, never here): a
 * backfill of a 20,000-workspace world whose initial population (20,000+ versions) shares one
 * updated_at, with the source changing ~1,000 times a second at the same time, through every role
 * in its own process. After the source pauses and the pipeline drains: bronze holds every version
 * once, and gold in Postgres = MongoDB = the gold topic = the join computed from the source API.
 */
describe('pipeline under a backfill and sustained changes', () => {
  const run = usePipelineRun('backfill', {
    // 20,000 workspaces (and their first jobs) written at one instant; few jobs, so the gold
    // stores stay small: the local MongoDB-wire server is a test double that slows with size
    TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '20000',
    TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '21000',
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '3000',
    TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
    TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '100',
  });

  it('holds every version once in bronze and the same gold everywhere as a join of the source', async () => {
    const source = run.source!;
    run.startAll(run.env(source.url, { TRIBUTARY_POLL_PAGE_SIZE: '500', TRIBUTARY_POLL_INTERVAL_MS: '200' }));

    // The changes go on while the backfill is ingested; pause once the source holds 50,000 versions.
    const total = async () =>
      (await source.versions('workspaces')).valid.length +
      (await source.versions('enrichment-jobs')).valid.length;
    await waitFor(async () => (await total()) >= 50_000, {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'the source to hold 50,000 versions',
    }).catch(run.roles.fail);
    source.handle.pause();

    const ws = await source.versions('workspaces');
    const jobs = await source.versions('enrichment-jobs');
    const sharedAt = new Map<number, number>();
    for (const v of [...ws.valid, ...jobs.valid]) {
      const at = Number(v.slice(v.lastIndexOf('@') + 1));
      sharedAt.set(at, (sharedAt.get(at) ?? 0) + 1);
    }
    expect(Math.max(...sharedAt.values())).toBeGreaterThanOrEqual(20_000);

    await expectBronzeComplete(run, source, { timeoutMs: 300_000, intervalMs: 2000 });
    const distinct = await run.pool.query(
      `select count(*)::int as n from (select distinct id, updated_at from bronze.enrichment_jobs where topic = $1) d`,
      [run.topics.rawJobs],
    );
    expect(distinct.rows[0].n).toBe(jobs.valid.length);

    const expected = await joinFromSource(source.url);
    await expectGoldEverywhere(run, expected, { timeoutMs: 300_000, intervalMs: 2000 });
    expect(await run.roles.stopAll(), 'every role exits cleanly').toEqual([]);
  }, 600_000);
});
