import type { Logger } from '../common/logger.ts';
import type { Simulator, TickResult } from './simulator.ts';
import type { TickBatch, WorldStore } from './world.ts';

export interface Ticker {
  /** one tick now, also while paused; resolves once its batch is kept by the world store */
  tick(): Promise<TickResult>;
  /** ticks every `tickMs` while not paused, until stop() */
  start(tickMs: number): void;
  /** stops the timer and waits for the write in flight */
  stop(): Promise<void>;
  /** stops the timer's ticks; resolves once a tick in flight is written, so nothing changes after */
  pause(): Promise<void>;
  resume(): void;
  readonly paused: boolean;
}

/** how often a failing write is logged again while it keeps failing */
const FAILURE_LOG_INTERVAL_MS = 10_000;
/** the most timer periods one tick catches up on; beyond, their changes are dropped */
export const MAX_PERIODS_PER_TICK = 10;

/**
 * Runs the simulator and keeps each tick's batch, one at a time: a tick starts only once the
 * previous batch is kept, so the stored world always matches the simulator's memory. A timer period
 * that finds the previous write unfinished is owed: the next tick makes its changes too (bigger
 * batches, cheaper per change), so a busy machine keeps the configured rate instead of silently
 * losing ticks, up to MAX_PERIODS_PER_TICK. A batch that could not be kept (Postgres down) is written
 * again before anything new. With a synchronous store (memory) a tick is done when tick() returns.
 */
export function createTicker(deps: {
  simulator: Simulator;
  world: WorldStore;
  startPaused?: boolean;
  logger?: Logger;
  /** after each batch is kept */
  onKept?: (batch: TickBatch) => void;
  /** a timer period found the previous write unfinished: its changes go into the next tick */
  onLate?: () => void;
  /** timer periods dropped, beyond MAX_PERIODS_PER_TICK owed */
  onDropped?: (periods: number) => void;
  onFailure?: (err: unknown) => void;
}): Ticker {
  let paused = deps.startPaused ?? false;
  let timer: NodeJS.Timeout | undefined;
  /** settles (never rejects) when the write in flight is done */
  let inFlight: Promise<void> | undefined;
  /** computed by the simulator, not kept yet */
  let unsaved: TickBatch | undefined;
  let failures = 0;
  let lastFailureLog = 0;

  function keep(batch: TickBatch): Promise<void> | undefined {
    unsaved = batch;
    const kept = deps.world.commit(batch);
    if (!(kept instanceof Promise)) {
      settled(batch);
      return undefined;
    }
    const done = kept.then(() => settled(batch));
    // the caller gets the error; this one only says when the store is free again
    const clear = () => {
      inFlight = undefined;
    };
    inFlight = done.then(clear, clear);
    return done;
  }

  function settled(batch: TickBatch): void {
    unsaved = undefined;
    if (failures > 0) deps.logger?.info({ failures }, 'mock source: writing the world works again');
    failures = 0;
    deps.onKept?.(batch);
  }

  function failed(err: unknown): void {
    failures++;
    deps.onFailure?.(err);
    const now = Date.now();
    if (failures === 1 || now - lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
      lastFailureLog = now;
      deps.logger?.error(
        { err, failures },
        'mock source: could not write a tick to its world; the simulator waits and writes it again',
      );
    }
  }

  function tick(periods = 1): Promise<TickResult> {
    if (inFlight) return inFlight.then(() => tick(periods));
    try {
      if (unsaved) {
        const again = keep(unsaved);
        if (again) return again.then(() => tick(periods));
      }
      const { result, batch } = deps.simulator.tick(periods);
      if (!batch) return Promise.resolve(result);
      const kept = keep(batch);
      return kept ? kept.then(() => result) : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  let owed = 0;
  return {
    tick: () => tick(),
    start(tickMs) {
      if (timer) return;
      timer = setInterval(() => {
        if (paused) return;
        owed++;
        if (owed > MAX_PERIODS_PER_TICK) {
          deps.onDropped?.(owed - MAX_PERIODS_PER_TICK);
          owed = MAX_PERIODS_PER_TICK;
        }
        if (inFlight) {
          deps.onLate?.();
          return;
        }
        const periods = owed;
        owed = 0;
        tick(periods).catch(failed);
      }, tickMs);
      timer.unref(); // the HTTP server keeps the process alive, not the simulator
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
    async pause() {
      paused = true;
      owed = 0;
      await inFlight;
    },
    resume() {
      paused = false;
    },
    get paused() {
      return paused;
    },
  };
}
