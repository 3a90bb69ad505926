import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryWorld } from './memory-world.ts';
import { START, testSource } from './test-helpers.ts';

const ENV = {
  TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.1',
  TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '20',
  TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '60',
};
const step = (i: number) => (i % 3 === 0 ? 7 : 1000);
const everything = (s: ReturnType<typeof testSource>) => [...s.workspaces.all(), ...s.jobs.all()];

describe('the world of a mock source', () => {
  // Digests of the data the mock source produced before it kept its world in a store (commit
  // b163541): same seed, empty store, same clock readings = the same data, byte for byte.
  it.each([
    ['42', 30, 575, '33a86d05fde678a5de2ccb234267ff33f2b8cc5c019a4296bd24068439dbdd9e'],
    ['7', 50, 787, '07af2fee6f22cbeba6b164e0dc331b7e95e41f60fa3244f7485f97377f02b7c1'],
  ])('from an empty store with seed %s gives the data it always gave', (seed, ticks, count, digest) => {
    const s = testSource({ ...ENV, TRIBUTARY_MOCK_SOURCE_SEED: seed });
    for (let i = 0; i < ticks; i++) s.tick(step(i));
    const all = everything(s);
    expect(all).toHaveLength(count);
    expect(createHash('sha256').update(JSON.stringify(all)).digest('hex')).toBe(digest);
  });

  it('continues after restarts exactly as if it had never stopped (records, random sequence, repairs)', () => {
    const straight = testSource(ENV);
    for (let i = 0; i < 60; i++) straight.tick(step(i));

    const world = createMemoryWorld();
    const clock = { t: START };
    let restarted = testSource(ENV, { world, clock });
    for (let i = 0; i < 60; i++) {
      if (i === 13 || i === 31 || i === 47) {
        // a new process: nothing but the stored world is carried over
        restarted = testSource({ ...ENV, TRIBUTARY_MOCK_SOURCE_SEED: '999' }, { world, clock });
        const { workspaces, jobs } = world.counts();
        expect(restarted.simulator.counts()).toEqual({ workspaces, jobs });
      }
      restarted.tick(step(i));
    }
    expect(everything(restarted)).toEqual(everything(straight));
    expect(world.counts()).toEqual(straight.world.counts());
    expect(straight.world.counts().malformedVersions).toBeGreaterThan(5); // repairs crossed restarts
  });

  it('refuses a batch that does not follow the stored world', () => {
    const world = createMemoryWorld();
    const a = testSource(ENV, { world });
    const b = testSource(ENV, { world }); // a second simulator on the same world
    a.tick();
    expect(() => b.tick()).toThrow(/follows tick 0, the world is at tick 1/);
  });
});
