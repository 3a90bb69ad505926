import { createHash } from 'node:crypto';

/**
 * Content hashes for comparing a shadow gold with the current one: per record a hash of its content
 * without the columns that differ on every rebuild (when it was processed or written, and where on
 * the gold topic it was read), and per store a hash of all (id, record hash) pairs in id order.
 */
export const VOLATILE_FIELDS = ['processed_at', 'written_at', 'source_partition', 'source_offset'] as const;

/** JSON with object keys sorted at every level; Dates as ISO text, Buffers as base64, bigints as text. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function recordHash(
  record: Record<string, unknown>,
  ignore: readonly string[] = VOLATILE_FIELDS,
): string {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!ignore.includes(k)) kept[k] = v;
  return createHash('sha256').update(canonicalJson(kept)).digest('hex');
}

export interface Side {
  records: number;
  /** hash of every (id, record hash) in id order: equal hashes mean equal content */
  hash: string;
}

export interface StoreDiff {
  store: string;
  current: Side;
  shadow: Side;
  onlyCurrent: number;
  onlyShadow: number;
  differing: number;
  /** a few ids of each kind, for the operator to look at */
  examples: { onlyCurrent: string[]; onlyShadow: string[]; differing: string[] };
}

export function storeHash(hashes: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const id of [...hashes.keys()].sort()) h.update(`${id}\t${hashes.get(id)}\n`);
  return h.digest('hex');
}

export function diffHashes(
  store: string,
  current: ReadonlyMap<string, string>,
  shadow: ReadonlyMap<string, string>,
  exampleCount = 5,
): StoreDiff {
  const d: StoreDiff = {
    store,
    current: { records: current.size, hash: storeHash(current) },
    shadow: { records: shadow.size, hash: storeHash(shadow) },
    onlyCurrent: 0,
    onlyShadow: 0,
    differing: 0,
    examples: { onlyCurrent: [], onlyShadow: [], differing: [] },
  };
  const note = (kind: 'onlyCurrent' | 'onlyShadow' | 'differing', id: string) => {
    d[kind]++;
    if (d.examples[kind].length < exampleCount) d.examples[kind].push(id);
  };
  for (const [id, h] of current) {
    const s = shadow.get(id);
    if (s === undefined) note('onlyCurrent', id);
    else if (s !== h) note('differing', id);
  }
  for (const id of shadow.keys()) if (!current.has(id)) note('onlyShadow', id);
  return d;
}

export const identical = (d: StoreDiff) => d.onlyCurrent === 0 && d.onlyShadow === 0 && d.differing === 0;
