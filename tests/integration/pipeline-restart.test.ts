import { afterAll, describe, expect, it } from 'vitest';
import { dropMockWorlds, mockWorldSchema } from '../support/mock-world.ts';
import { joinFromSource } from '../support/pipeline.ts';
import {
  expectBronzeComplete,
  expectGoldEverywhere,
  goldGrows,
  topicEnd,
  usePipelineRun,
} from '../support/pipeline-run.ts';
import { startTestSource } from '../support/poller-harness.ts';

/**
 * Issue 12, "the second `npm start`": every role runs, everything stops (Ctrl-C), everything starts
 * again and runs on. The mock source keeps its world in Postgres, so the restarted source continues
 * the world the pollers' cursors point into: gold in Postgres = MongoDB = the topic's latest per key
 * = a join of the source API, and not a single dead letter. (A source that rebuilt its world from
 * the seed reuses the same ids with new histories: dead letters and gold rows the source lacks.)
 */
describe('pipeline restart', () => {
  const run = usePipelineRun('restart', null);
  const schema = mockWorldSchema();
  afterAll(() => dropMockWorlds(run.infra.postgres.url, [schema]));

  it('stops every role, starts them again, and gold still equals the source with no dead letter', async () => {
    const startSource = async () => {
      run.source = await startTestSource(
        {
          // one seed for both runs, as `npm start` twice with the same settings
          TRIBUTARY_MOCK_SOURCE_SEED: '4242',
          TRIBUTARY_MOCK_SOURCE_SCHEMA: schema,
          TRIBUTARY_MOCK_SOURCE_TICK_MS: '200',
          TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '40',
        },
        { postgresUrl: run.infra.postgres.url },
      );
      return run.source;
    };
    const stopAll = async () => {
      expect(await run.roles.stopAll(), 'every role exits cleanly').toEqual([]);
      await run.source!.close();
      run.source = undefined;
    };

    // the first `npm start`, then Ctrl-C
    run.startAll(run.env((await startSource()).url));
    await goldGrows(run, 15);
    await stopAll();

    // the second: the same world continues, the pollers resume from their cursors
    const source = await startSource();
    run.startAll(run.env(source.url));
    await goldGrows(run, 15);
    await source.handle.pause();

    const expected = await joinFromSource(source.url);
    expect(expected.size).toBeGreaterThan(10);
    await expectGoldEverywhere(run, expected, { timeoutMs: 180_000 });
    // nothing at all for any dead-letter topic of the run: offsets would count aborted writes too
    const { topics } = run;
    for (const dlq of [
      topics.dlqWorkspaces,
      topics.dlqJobs,
      topics.bronzeDlqWorkspaces,
      topics.bronzeDlqJobs,
      topics.goldDlq,
    ]) {
      expect(await topicEnd(run.admin, dlq), `${dlq} is empty`).toBe(0);
    }
    // bronze: every version of the source, once, across both runs
    await expectBronzeComplete(run, source, { timeoutMs: 120_000 });
    await stopAll();
  });
});
