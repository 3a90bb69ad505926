import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryWorld } from './memory-world.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import { START } from './test-helpers.ts';
import { createTicker, MAX_PERIODS_PER_TICK } from './ticker.ts';
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

describe('ticker timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes the changes of the periods that met a write in flight in the next tick, up to a limit', async () => {
    vi.useFakeTimers();
    const asked: number[] = [];
    const simulator = {
      tick(periods = 1) {
        asked.push(periods);
        return { result: { at: 0, versions: periods, skipped: false }, batch: {} as TickBatch };
      },
    } as unknown as Simulator;
    let answer: () => void = () => {};
    const world = {
      commit: () =>
        new Promise<void>((resolve) => {
          answer = resolve;
        }),
    } as unknown as WorldStore;
    let late = 0;
    let dropped = 0;
    const ticker = createTicker({
      simulator,
      world,
      onLate: () => late++,
      onDropped: (n) => {
        dropped += n;
      },
    });
    ticker.start(100);
    await vi.advanceTimersByTimeAsync(100); // the first tick: its write is slow
    await vi.advanceTimersByTimeAsync(300); // three periods find it in flight
    answer();
    await vi.advanceTimersByTimeAsync(100); // the fourth period makes the changes of all four
    expect(asked).toEqual([1, 4]);
    expect(late).toBe(3);
    await vi.advanceTimersByTimeAsync(1500); // fifteen periods behind: only ten are made up
    answer();
    await vi.advanceTimersByTimeAsync(100);
    expect(asked).toEqual([1, 4, MAX_PERIODS_PER_TICK]);
    expect(dropped).toBe(6);
    answer();
    await ticker.pause(); // nothing owed survives a pause
    ticker.resume();
    await vi.advanceTimersByTimeAsync(100);
    expect(asked).toEqual([1, 4, MAX_PERIODS_PER_TICK, 1]);
    answer();
    await ticker.stop();
  });
});
