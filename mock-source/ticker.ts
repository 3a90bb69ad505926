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

/**
 * Runs the simulator and keeps each tick's batch, one at a time: a tick starts only once the
 * previous batch is kept, so the stored world always matches the simulator's memory. A batch that
 * could not be kept (Postgres down) is written again before anything new; meanwhile the timer's
 * ticks are skipped and counted. With a synchronous store (memory) a tick is done when tick() returns.
 */
export function createTicker(deps: {
  simulator: Simulator;
  world: WorldStore;
  startPaused?: boolean;
  logger?: Logger;
  /** after each batch is kept */
  onKept?: (batch: TickBatch) => void;
  /** a timer tick was skipped because the previous write had not finished */
  onBusy?: () => void;
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

  function tick(): Promise<TickResult> {
    if (inFlight) return inFlight.then(tick);
    try {
      if (unsaved) {
        const again = keep(unsaved);
        if (again) return again.then(tick);
      }
      const { result, batch } = deps.simulator.tick();
      if (!batch) return Promise.resolve(result);
      const kept = keep(batch);
      return kept ? kept.then(() => result) : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  return {
    tick,
    start(tickMs) {
      if (timer) return;
      timer = setInterval(() => {
        if (paused) return;
        if (inFlight) {
          deps.onBusy?.();
          return;
        }
        tick().catch(failed);
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
