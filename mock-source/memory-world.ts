import { createVersionStore, type VersionStore } from './store.ts';
import type { EntityName } from './wire.ts';
import {
  NO_COUNTS,
  type RecordChange,
  type SavedWorld,
  type SimulatorState,
  type TickBatch,
  type WorldCounts,
  type WorldStore,
} from './world.ts';

/**
 * A world kept in memory: what unit tests drive. Synchronous (its commit returns once the batch is
 * kept), and it can be loaded again by a new mock source, so tests can restart one without servers.
 */
export interface MemoryWorld extends WorldStore {
  readonly workspaces: VersionStore;
  readonly jobs: VersionStore;
  load(): SavedWorld | undefined;
  commit(batch: TickBatch): void;
  counts(): WorldCounts;
}

export function createMemoryWorld(): MemoryWorld {
  const workspaces = createVersionStore();
  const jobs = createVersionStore();
  const records: Record<EntityName, Map<string, RecordChange>> = {
    workspace: new Map(),
    'enrichment-job': new Map(),
  };
  let state: SimulatorState | undefined;

  return {
    workspaces,
    jobs,
    load() {
      if (!state) return undefined;
      const all = [...records.workspace.values(), ...records['enrichment-job'].values()];
      return {
        state: copyState(state),
        workspaces: [...records.workspace.values()]
          .sort((a, b) => a.seq - b.seq)
          .map((r) => r.state) as SavedWorld['workspaces'],
        activeJobs: [...records['enrichment-job'].values()]
          .filter((r) => r.activeSlot !== null)
          .sort((a, b) => a.activeSlot! - b.activeSlot!)
          .map((r) => r.state) as SavedWorld['activeJobs'],
        repairs: all.filter((r) => r.malformed).map((r) => ({ entity: r.entity, state: r.state })),
      };
    },
    commit(batch) {
      const follows =
        batch.previousTicks === undefined ? state === undefined : state?.ticks === batch.previousTicks;
      if (!follows) {
        throw new Error(`batch follows tick ${batch.previousTicks}, the world is at tick ${state?.ticks}`);
      }
      for (const v of batch.versions.workspace) workspaces.append(v);
      for (const v of batch.versions['enrichment-job']) jobs.append(v);
      for (const change of batch.records) {
        const existing = records[change.entity].get(change.id);
        records[change.entity].set(change.id, { ...change, seq: existing?.seq ?? change.seq });
      }
      state = copyState(batch.state);
    },
    counts: () => ({ ...(state?.counts ?? NO_COUNTS) }),
    close: async () => {},
  };
}

function copyState(s: SimulatorState): SimulatorState {
  return { ...s, counts: { ...s.counts }, rng: { words: Int32Array.from(s.rng.words), index: s.rng.index } };
}
