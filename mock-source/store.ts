/**
 * The versions of one entity, kept in feed order: (updated_at, id) ascending. Every write of a record
 * is a new version; nothing is overwritten, so a paging client sees a consistent history. This one
 * lives in memory (unit tests, memory-world.ts); the role keeps its versions in Postgres (pg-feed.ts).
 */
export interface FeedPosition {
  /** epoch ms */
  updatedAt: number;
  id: string;
}

export interface StoredVersion extends FeedPosition {
  /** true when `body` has a defect on purpose (see malform.ts) */
  malformed: boolean;
  /** the JSON object served by the API, exactly as written */
  body: Record<string, unknown>;
}

export interface PageQuery {
  /** only versions strictly after this position */
  after?: FeedPosition;
  /** only versions with updatedAt strictly greater (epoch ms) */
  updatedSince?: number;
  limit: number;
}

export interface VersionStore {
  append(version: StoredVersion): void;
  /** `more` is true when versions after the page exist now */
  page(query: PageQuery): { items: StoredVersion[]; more: boolean };
  latest(id: string): StoredVersion | undefined;
  all(): readonly StoredVersion[];
  /** the same as all(): the FeedReader view of it */
  list(): readonly StoredVersion[];
  readonly size: number;
  readonly records: number;
  readonly malformed: number;
}

export function compareFeed(a: FeedPosition, b: FeedPosition): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt - b.updatedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function createVersionStore(): VersionStore {
  const versions: StoredVersion[] = [];
  const latest = new Map<string, StoredVersion>();
  let malformed = 0;

  /** index of the first version that satisfies `after(v)`, where `after` is monotone over the feed */
  function firstWhere(after: (v: StoredVersion) => boolean): number {
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(versions[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  return {
    append(version) {
      const previous = latest.get(version.id);
      // the feed's guarantees rest on this: a record's versions are strictly increasing in time
      if (previous && version.updatedAt <= previous.updatedAt) {
        throw new Error(
          `version ${version.id}@${version.updatedAt} is not after the previous one (${previous.updatedAt})`,
        );
      }
      // versions of one tick share updatedAt and arrive in random id order: insert, usually near the end
      const at = firstWhere((v) => compareFeed(v, version) > 0);
      versions.splice(at, 0, version);
      latest.set(version.id, version);
      if (version.malformed) malformed++;
    },
    page({ after, updatedSince, limit }) {
      let start = 0;
      if (after) start = firstWhere((v) => compareFeed(v, after) > 0);
      if (updatedSince !== undefined)
        start = Math.max(
          start,
          firstWhere((v) => v.updatedAt > updatedSince),
        );
      const items = versions.slice(start, start + limit);
      return { items, more: start + items.length < versions.length };
    },
    latest: (id) => latest.get(id),
    all: () => versions,
    list: () => versions,
    get size() {
      return versions.length;
    },
    get records() {
      return latest.size;
    },
    get malformed() {
      return malformed;
    },
  };
}
