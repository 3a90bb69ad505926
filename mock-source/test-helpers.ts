import { createMockSource, type MockSourceDeps, mockSourceOptions } from './index.ts';

/** Helpers for the unit tests of this folder: a mock source on a manual clock, nothing listening. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const START = Date.parse('2026-11-22T10:00:00.000Z');

export function testSource(env: Record<string, string> = {}, deps: MockSourceDeps = {}) {
  const clock = { t: START };
  const opts = mockSourceOptions({
    TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: ADMIN_TOKEN,
    TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
    ...env,
  });
  const source = createMockSource(opts, { now: () => clock.t, ...deps });
  return {
    ...source,
    opts,
    clock,
    /** moves the clock, then ticks once */
    tick(ms = 1000) {
      clock.t += ms;
      return source.simulator.tick();
    },
  };
}

export type TestSource = ReturnType<typeof testSource>;

export const versionKey = (v: { id: unknown; updated_at: unknown }) => `${v.updated_at}|${v.id}`;
