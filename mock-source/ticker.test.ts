import { describe, expect, it } from 'vitest';
import { createMemoryWorld } from './memory-world.ts';
import { createSimulator } from './simulator.ts';
import { START } from './test-helpers.ts';
import { createTicker } from './ticker.ts';
import type { TickBatch, WorldStore } from './world.ts';

const options = { seed: 3, initialWorkspaces: 5, maxWorkspaces: 50, maxJobs: 200, changesPerTick: 10 };

/** a store in memory that answers later, and fails the commits it is told to fail */
function flakyWorld() {
  const memory = createMemoryWorld();
  let failNext = 0;
  let pending: Array<() => void> = [];
  const world: WorldStore = {
    ...memory,
    commit(batch: TickBatch) {
      return new Promise<void>((resolve, reject) => {
        pending.push(() => {
          if (failNext > 0) {
            failNext--;
            reject(new Error('connection lost'));
          } else {
            memory.commit(batch);
            resolve();
          }
        });
      });
    },
  };
  return {
    world,
    memory,
    failNext: (n: number) => {
      failNext = n;
    },
    /** answers every commit waiting so far */
    answer() {
      const now = pending;
      pending = [];
      for (const p of now) p();
    },
  };
}

/** the outcome of a promise, observed at once (no unhandled rejection while the test waits) */
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (err: Error) => ({ error: err.message }),
  );

describe('ticker', () => {
  it('writes a tick that failed again before the next, so the store misses and repeats nothing', async () => {
    const store = flakyWorld();
    const clock = { t: START };
    const simulator = createSimulator({ options, now: () => clock.t, malformedRate: () => 0 });
    store.memory.commit(simulator.takeInitialBatch()!);
    const failures: unknown[] = [];
    const ticker = createTicker({ simulator, world: store.world, onFailure: (e) => failures.push(e) });

    // the reference: the same simulator run against a store that never fails
    const reference = createMemoryWorld();
    const refSim = createSimulator({ options, now: () => clock.t, malformedRate: () => 0 });
    reference.commit(refSim.takeInitialBatch()!);

    for (let i = 0; i < 6; i++) {
      clock.t += 1000;
      const ref = refSim.tick();
      reference.commit(ref.batch!);
      if (i === 2) store.failNext(2);
      const tick = settle(ticker.tick());
      // a second tick asked while the first is being written waits for it
      const queued = settle(ticker.tick());
      for (let answered = 0; answered < 5; answered++) {
        store.answer();
        await new Promise((r) => setImmediate(r));
      }
      if (i === 2) {
        expect(await tick).toEqual({ error: 'connection lost' });
        expect(await queued).toEqual({ error: 'connection lost' });
        // the failed batch is written first, then a new tick happens (the clock has not moved)
        const again = ticker.tick();
        store.answer();
        await new Promise((r) => setImmediate(r));
        store.answer();
        expect(await again).toMatchObject({ skipped: true });
      } else {
        expect(await tick).toMatchObject({ value: { at: clock.t, skipped: false } });
        expect(await queued).toMatchObject({ value: { at: clock.t, skipped: true } });
      }
    }
    expect(store.memory.jobs.all()).toEqual(reference.jobs.all());
    expect(store.memory.workspaces.all()).toEqual(reference.workspaces.all());
    expect(store.memory.counts()).toEqual(reference.counts());
  });
});
