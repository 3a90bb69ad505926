/**
 * The pure part of the reconciliation per walk: when a walk can be judged, and the verdict.
 *
 * A walk published `published` versions to its raw topic (and `pollerDeadLetters` to its DLQ in
 * the same transactions, so those landed by construction). Each published version must end as a
 * bronze row or as one of bronze's dead letters (an undecodable record), both found by their raw
 * offset inside the walk's range. Missing versions can only be told from late ones once bronze's
 * group has committed past the walk's last offset on every partition it wrote.
 */
export type WalkStatus = 'pending' | 'reconciled' | 'unreconciled';

export interface RawRange {
  partition: number;
  first: string;
  last: string;
}

/** One walk as shown by the API, the dashboard and `tributary status` (gateway/walks/query.ts reads it). */
export interface WalkView {
  walkId: string;
  api: string;
  rawTopic: string;
  outcome: 'complete' | 'stopped' | 'failed';
  /** epoch ms */
  startedAt: number;
  endedAt: number;
  pages: number;
  /** new versions the walk served: published to the raw topic + sent to its DLQ by the poller */
  served: number;
  /** versions served again (the overlap window) and dropped */
  duplicates: number;
  published: number;
  pollerDeadLetters: number;
  rawOffsets: RawRange[];
  status: WalkStatus;
  /** null while the walk was never counted */
  inBronze: number | null;
  /** the poller's dead letters + bronze's for the walk's records (null until counted) */
  deadLetters: number | null;
  missing: number | null;
  goldRows: number | null;
  /** epoch ms of the last count, null before the first */
  checkedAt: number | null;
}

/** The latest walk of an API, with how many of its walks do not reconcile. */
export interface LatestWalk extends WalkView {
  unreconciledWalks: number;
}

export interface Landed {
  inBronze: number;
  bronzeDeadLetters: number;
}

export interface Verdict {
  status: WalkStatus;
  /** published versions found neither in bronze nor among bronze's dead letters */
  missing: number;
}

/**
 * Whether the group has consumed every record of the ranges: a committed offset is the next one to
 * read, so it must be past `last`. A partition the group never committed on is not caught up.
 */
export function caughtUp(
  ranges: readonly RawRange[],
  committed: ReadonlyMap<number, string | null>,
): boolean {
  return ranges.every((r) => {
    const c = committed.get(r.partition);
    return c !== undefined && c !== null && BigInt(c) > BigInt(r.last);
  });
}

/**
 * Everything accounted for is reconciled at once (no need to wait); a shortfall stays pending until
 * bronze caught up, then the walk is unreconciled. A later recount can still settle it (a replay or
 * a redrive that brought the version in).
 */
export function judge(published: number, landed: Landed, bronzeCaughtUp: boolean): Verdict {
  const missing = Math.max(0, published - landed.inBronze - landed.bronzeDeadLetters);
  if (missing === 0) return { status: 'reconciled', missing: 0 };
  return { status: bronzeCaughtUp ? 'unreconciled' : 'pending', missing };
}

/** The ranges as SQL array parameters (partition[], first[], last[]) for `unnest`. */
export function rangeParams(ranges: readonly RawRange[]): [number[], string[], string[]] {
  return [ranges.map((r) => r.partition), ranges.map((r) => r.first), ranges.map((r) => r.last)];
}
