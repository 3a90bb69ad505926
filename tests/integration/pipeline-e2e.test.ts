import { describe, expect, it } from 'vitest';
import { joinFromSource } from '../support/pipeline.ts';
import {
  expectBronzeComplete,
  expectGoldEverywhere,
  goldGrows,
  type PipelineRole,
  ROLE_ENTRIES,
  usePipelineRun,
} from '../support/pipeline-run.ts';

/**
 * The whole pipeline from the mock source, every role in its own process, with kill -9 of each
 * consumer role mid-run. After pausing the source and draining: gold in Postgres = gold in MongoDB =
 * the latest value per key on the gold topic = a join computed here from the source API, and bronze
 * holds every version once.
 */
describe('pipeline end to end', () => {
  const run = usePipelineRun('e2e', {
    TRIBUTARY_MOCK_SOURCE_TICK_MS: '250',
    TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '40',
  });

  it('converges to the same gold in Postgres, MongoDB and the topic as a join of the source, through crashes', async () => {
    const source = run.source!;
    const env = run.env(source.url);
    run.startAll(env);
    // kill -9 each consumer role at a random point of progress, and start it again.
    for (const victim of ['bronze', 'processor', 'gold', 'processor', 'bronze', 'gold'] as const) {
      await goldGrows(run, 1 + Math.floor(Math.random() * 15));
      await run.roles.procs.get(victim)!.kill9();
      run.roles.start(victim, ROLE_ENTRIES[victim satisfies PipelineRole], env);
    }
    await goldGrows(run, 5);
    source.handle.pause();

    const expected = await joinFromSource(source.url);
    expect(expected.size).toBeGreaterThan(10);
    expect([...expected.values()].some((g) => g.workspace_resolved)).toBe(true);
    await expectGoldEverywhere(run, expected, { timeoutMs: 180_000 });
    // Bronze: every version the source served, once.
    await expectBronzeComplete(run, source, { timeoutMs: 120_000 });
    expect(await run.roles.stopAll(), 'every role exits cleanly').toEqual([]);
  });
});
