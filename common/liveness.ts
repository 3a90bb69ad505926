import { ROLE_METRICS } from '../contracts/metrics/index.ts';
import { describeError } from './errors.ts';
import type { RoleMetrics } from './metrics.ts';

/**
 * Whether a role makes progress. Each loop of the role (a consumer group, a poller) feeds a probe:
 * what waits for it (messages not yet committed, a walk that is due), when it last committed, whether
 * its consumer is in its group, and its last error. A probe is stalled when, for `stallAfterMs`,
 *
 * - its consumer has been out of its group (crashed, restarting, never joined), or
 * - input has been waiting and nothing was committed.
 *
 * An idle loop (nothing waiting) is never stalled, however long since its last commit. Pure logic on
 * an injectable clock; the role process reads `status()` for /readyz, the metrics and the
 * self-restart (runtime/run-roles.ts).
 */
export type ProbeKind = 'consumer' | 'poller';

export interface Probe {
  readonly name: string;
  /** the consumer joined its group */
  joined(): void;
  /** the consumer is out of its group (crashed, restarting); the first call starts the clock */
  left(reason: string): void;
  /** messages of one partition (or walks of a poller) waiting to be committed */
  waiting(key: string, count: number): void;
  /** forget the waiting counts of every key not in `keys` (partitions lost in a rebalance) */
  retain(keys: ReadonlySet<string>): void;
  /** a batch or page was committed */
  progressed(): void;
  /** the latest failure, quoted in the reason until the next progress */
  failed(err: unknown): void;
  /** the loop is closed and no longer counts */
  remove(): void;
}

export interface ProbeState {
  name: string;
  stalled: boolean;
  /** how long the probe has been without the progress it should have made (0 when idle or fine) */
  stuckForMs: number;
  /** why it is stalled (only when stalled) */
  reason?: string;
  waiting: number;
  /** null for loops without a consumer group */
  inGroup: boolean | null;
  lastProgressAt: number | null;
  lastError?: string;
}

export interface LivenessStatus {
  stalled: boolean;
  /** the longest stuckForMs of the probes */
  stuckForMs: number;
  /** the stalled probes' reasons, each prefixed with the probe's name */
  reason?: string;
  probes: ProbeState[];
}

export interface Liveness {
  readonly stallAfterMs: number;
  probe(name: string, kind?: ProbeKind): Probe;
  status(): LivenessStatus;
}

export const DEFAULT_STALL_AFTER_MS = 60_000;

interface ProbeData {
  name: string;
  kind: ProbeKind;
  inGroup: boolean | null;
  outSince: number;
  outReason: string;
  waiting: Map<string, number>;
  waitingSince: number | undefined;
  lastProgressAt: number | undefined;
  lastError: string | undefined;
}

export function createLiveness(opts: { stallAfterMs?: number; now?: () => number } = {}): Liveness {
  const stallAfterMs = opts.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
  const now = opts.now ?? Date.now;
  const probes = new Set<ProbeData>();

  function total(p: ProbeData): number {
    let n = 0;
    for (const v of p.waiting.values()) n += v;
    return n;
  }

  function recount(p: ProbeData): void {
    if (total(p) > 0) p.waitingSince ??= now();
    else p.waitingSince = undefined;
  }

  function evaluate(p: ProbeData, t: number): ProbeState {
    const waiting = total(p);
    const outFor = p.inGroup === false ? t - p.outSince : 0;
    const since = Math.max(p.waitingSince ?? t, p.lastProgressAt ?? Number.NEGATIVE_INFINITY);
    const waitFor = waiting > 0 ? t - since : 0;
    const stuckForMs = Math.max(0, outFor, waitFor);
    const stalled = stuckForMs >= stallAfterMs;
    let reason: string | undefined;
    if (stalled) {
      reason =
        outFor >= stallAfterMs
          ? `not in its consumer group for ${seconds(outFor)} s (${p.outReason})`
          : p.kind === 'poller'
            ? `no page committed for ${seconds(waitFor)} s while a walk is due`
            : `no batch committed for ${seconds(waitFor)} s with ${waiting.toLocaleString('en-US')} messages waiting`;
      if (p.lastError) reason += `; last error: ${p.lastError}`;
    }
    return {
      name: p.name,
      stalled,
      stuckForMs,
      reason,
      waiting,
      inGroup: p.inGroup,
      lastProgressAt: p.lastProgressAt ?? null,
      lastError: p.lastError,
    };
  }

  return {
    stallAfterMs,
    probe(name, kind = 'consumer') {
      const p: ProbeData = {
        name,
        kind,
        inGroup: kind === 'consumer' ? false : null,
        outSince: now(),
        outReason: 'not joined yet',
        waiting: new Map(),
        waitingSince: undefined,
        lastProgressAt: undefined,
        lastError: undefined,
      };
      probes.add(p);
      return {
        name,
        joined() {
          p.inGroup = true;
        },
        left(reason) {
          if (p.inGroup !== false) p.outSince = now();
          p.inGroup = false;
          p.outReason = reason;
        },
        waiting(key, count) {
          if (count > 0) p.waiting.set(key, count);
          else p.waiting.delete(key);
          recount(p);
        },
        retain(keys) {
          for (const key of p.waiting.keys()) if (!keys.has(key)) p.waiting.delete(key);
          recount(p);
        },
        progressed() {
          p.lastProgressAt = now();
          p.lastError = undefined;
        },
        failed(err) {
          p.lastError = oneLine(describeError(err));
        },
        remove() {
          probes.delete(p);
        },
      };
    },
    status() {
      const t = now();
      const states = [...probes].map((p) => evaluate(p, t));
      const stalled = states.filter((s) => s.stalled);
      return {
        stalled: stalled.length > 0,
        stuckForMs: states.reduce((m, s) => Math.max(m, s.stuckForMs), 0),
        reason: stalled.length > 0 ? stalled.map((s) => `${s.name}: ${s.reason}`).join(' | ') : undefined,
        probes: states,
      };
    },
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000).toLocaleString('en-US');
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 500);

/**
 * Adds the role's liveness to its metrics (so to /metrics and to the snapshots the gateway reads):
 * ROLE_METRICS.stalled 1/0, and ROLE_METRICS.stallInfo{reason="…"} 1 while stalled.
 * Both are read when collected, never stale.
 */
export function registerLivenessMetrics(metrics: RoleMetrics, liveness: Liveness): void {
  if (metrics.registry.getSingleMetric(ROLE_METRICS.stalled.name)) return;
  metrics.gauge(ROLE_METRICS.stalled, {
    collect() {
      this.set(liveness.status().stalled ? 1 : 0);
    },
  });
  metrics.gauge(ROLE_METRICS.stallInfo, {
    collect() {
      this.reset();
      const { reason } = liveness.status();
      if (reason) this.set({ reason: labelSafe(reason) }, 1);
    },
  });
}

/**
 * One line of at most 400 characters. Quotes and backslashes are replaced as they were when the
 * reason travelled inside a `name{reason="…"}` snapshot key, so it reads the same as before.
 */
function labelSafe(text: string): string {
  return text.replace(/\\/g, '/').replace(/"/g, "'").slice(0, 400);
}
