import type { JobLineage } from '../../../gateway/schemas.ts';
import { readToken } from './token.ts';

export type LineageReply = { ok: true; lineage: JobLineage } | { ok: false; error: string };

/**
 * GET /api/jobs/{id}/lineage (a REST call, not the socket: a trace reads Kafka and takes a moment,
 * and is asked for once per click), with the gateway token when there is one.
 */
export async function fetchLineage(jobId: string, signal?: AbortSignal): Promise<LineageReply> {
  const token = readToken();
  try {
    const res = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/lineage`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal,
    });
    if (res.ok) return { ok: true, lineage: (await res.json()) as JobLineage };
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    return { ok: false, error: body?.message ?? `the gateway answered ${res.status}` };
  } catch (err) {
    return {
      ok: false,
      error: signal?.aborted ? 'cancelled' : `the gateway did not answer: ${(err as Error).message}`,
    };
  }
}

/** `+1,234 ms`, `+2.5 s`: the time since the previous hop. */
export function formatAfter(ms: number | null): string {
  if (ms === null) return '';
  if (Math.abs(ms) < 10_000) return `+${ms.toLocaleString('en-US')} ms`;
  return `+${(ms / 1000).toFixed(1)} s`;
}

/** `09:01:02.345` of an ISO time (UTC, as the CLI prints it). */
export function formatInstant(iso: string | null): string {
  return iso === null ? '—' : iso.slice(11, 23);
}
