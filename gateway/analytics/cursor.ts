/**
 * Keyset pagination cursors for the recent-jobs list, ordered by (created_at DESC, job_id ASC), the
 * order of the gold table's index. A cursor is the last row's key, base64url-encoded JSON: opaque to
 * clients, and the timestamp keeps Postgres' microseconds so no row is skipped or repeated.
 */
export interface JobCursor {
  /** created_at as an ISO timestamp with microseconds, UTC */
  createdAt: string;
  jobId: string;
}

export class BadCursorError extends Error {}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.jobId])).toString('base64url');
}

export function decodeCursor(text: string): JobCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursorError('cursor is not one this API returned');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !ISO_MICROS.test(parsed[0]) ||
    !UUID.test(parsed[1])
  ) {
    throw new BadCursorError('cursor is not one this API returned');
  }
  return { createdAt: parsed[0], jobId: parsed[1] };
}
