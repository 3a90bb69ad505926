import { createMockSource, type MockSourceDeps, mockSourceOptions } from './index.ts';
import { createMemoryWorld, type MemoryWorld } from './memory-world.ts';

/** Helpers for the unit tests of this folder: a mock source on a manual clock, nothing listening. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const START = Date.parse('2026-11-22T10:00:00.000Z');

/**
 * A mock source whose world is kept in memory (`world`, default a new one). Passing the world of an
 * earlier test source restarts that world, as a restarted role does with its Postgres store.
 */
export function testSource(
  env: Record<string, string> = {},
  deps: Omit<MockSourceDeps, 'world'> & { world?: MemoryWorld; clock?: { t: number } } = {},
) {
  const clock = deps.clock ?? { t: START };
  const opts = mockSourceOptions({
    TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: ADMIN_TOKEN,
    TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
    ...env,
  });
  const world = deps.world ?? createMemoryWorld();
  const source = createMockSource(opts, { now: () => clock.t, ...deps, world, saved: world.load() });
  return {
    ...source,
    world,
    workspaces: world.workspaces,
    jobs: world.jobs,
    opts,
    clock,
    /** moves the clock, then ticks once; the memory world keeps the tick before this returns */
    tick(ms = 1000) {
      clock.t += ms;
      const { result, batch } = source.simulator.tick();
      if (batch) world.commit(batch);
      return result;
    },
  };
}

export type TestSource = ReturnType<typeof testSource>;

export const versionKey = (v: { id: unknown; updated_at: unknown }) => `${v.updated_at}|${v.id}`;
