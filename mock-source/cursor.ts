import type { FeedPosition } from './store.ts';

/**
 * The opaque `next_cursor` of the list endpoints: base64url of a small JSON object with the last
 * version served (updated_at, id) and the updated_since filter of the walk, so following the cursor
 * needs no other parameter. Clients must not parse it; the version field lets it change later.
 */
export interface Cursor extends FeedPosition {
  /** the walk's updated_since filter (epoch ms), when it had one */
  updatedSince?: number;
}

export class CursorError extends Error {}

const MAX_CURSOR_CHARS = 1024;

export function encodeCursor(cursor: Cursor): string {
  const json: Record<string, unknown> = { v: 1, u: cursor.updatedAt, i: cursor.id };
  if (cursor.updatedSince !== undefined) json.s = cursor.updatedSince;
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new CursorError('is not a cursor returned by this API (not base64url)');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('is not a cursor returned by this API (not JSON)');
  }
  if (typeof json !== 'object' || json === null)
    throw new CursorError('is not a cursor returned by this API');
  const { v, u, i, s } = json as Record<string, unknown>;
  if (v !== 1) throw new CursorError('is not a cursor returned by this API (unknown version)');
  if (!isTimestamp(u) || typeof i !== 'string' || i.length === 0 || (s !== undefined && !isTimestamp(s))) {
    throw new CursorError('is not a cursor returned by this API (bad position)');
  }
  return s === undefined ? { updatedAt: u, id: i } : { updatedAt: u, id: i, updatedSince: s };
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
