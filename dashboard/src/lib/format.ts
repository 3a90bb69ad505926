/**
 * How numbers are written on the dashboard. Pure functions: the browser test formats the API's
 * numbers with them to compare with the page.
 */
export const DASH = '—';

export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? DASH : Math.round(n).toLocaleString('en-US');
}

export function formatPercent(share: number | null | undefined): string {
  return share === null || share === undefined ? DASH : `${(share * 100).toFixed(1)}%`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** records per second */
export function formatRate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined) return DASH;
  return perSec < 10 ? `${perSec.toFixed(1)}/s` : `${Math.round(perSec).toLocaleString('en-US')}/s`;
}

export function formatPerMinute(perMinute: number | null | undefined): string {
  if (perMinute === null || perMinute === undefined) return DASH;
  return perMinute < 10 ? perMinute.toFixed(2) : Math.round(perMinute).toLocaleString('en-US');
}

export function formatAgo(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return DASH;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * A replay's progress line: "1,234 / 5,000 reprocessed (25%)", or "… — done" once its lag is 0.
 * The percentage never reads 100% before the lag is 0.
 */
export function formatReplay(r: { lagMessages: number; totalMessages: number; progress: number }): string {
  const done = Math.max(0, r.totalMessages - r.lagMessages);
  const counts = `${formatInt(done)} / ${formatInt(r.totalMessages)} reprocessed`;
  if (r.lagMessages <= 0) return `${counts} — done`;
  return `${counts} (${Math.min(99, Math.round(r.progress * 100))}%)`;
}
