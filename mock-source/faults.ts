/**
 * Fault knobs of the mock source: how often it misbehaves, so the pollers' retry, back-off and
 * dead-letter paths are exercised. Set from the environment at start and changed at runtime through
 * `PUT /admin/faults`.
 */
export interface FaultSettings {
  /** probability (0..1) that a /v1 request gets an injected 429 with Retry-After */
  rate429: number;
  /** probability (0..1) that a /v1 request gets a 500, 502 or 503 */
  rate5xx: number;
  /** probability (0..1) that a /v1 request is answered after `slowMs` */
  rateSlow: number;
  slowMs: number;
  /** probability (0..1) that a 200 body is cut off or replaced by something that is not JSON */
  rateTruncated: number;
  /** probability (0..1) that a version written by the simulator has one defect (see malform.ts) */
  rateMalformedRecord: number;
  /** the Retry-After (seconds) of injected 429s */
  retryAfterSeconds: number;
}

/** The faults decided per request, each drawn independently. */
export type RequestFault = 'rate429' | 'rate5xx' | 'rateSlow' | 'rateTruncated';

export interface FaultInjector {
  settings(): FaultSettings;
  update(patch: Partial<FaultSettings>): FaultSettings;
  /** true when this request should get the fault (never when its probability is 0) */
  roll(fault: RequestFault): boolean;
  /** a uniform number in [0, 1) from the same source, for choosing among variants of a fault */
  random(): number;
}

export const NO_FAULTS: FaultSettings = {
  rate429: 0,
  rate5xx: 0,
  rateSlow: 0,
  slowMs: 2000,
  rateTruncated: 0,
  rateMalformedRecord: 0,
  retryAfterSeconds: 1,
};

/**
 * `random` is injectable so tests are deterministic; by default request faults use Math.random,
 * since the order of requests is not deterministic anyway (malformed records, which are part of the
 * feed, are drawn from the simulator's seeded generator instead).
 */
export function createFaultInjector(deps: { initial: FaultSettings; random?: () => number }): FaultInjector {
  let current: FaultSettings = { ...deps.initial };
  const random = deps.random ?? Math.random;
  return {
    settings: () => ({ ...current }),
    update(patch) {
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      current = { ...current, ...defined };
      return { ...current };
    },
    roll(fault) {
      const p = current[fault];
      return p > 0 && random() < p;
    },
    random,
  };
}
