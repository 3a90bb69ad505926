import type { MetricSample } from './snapshot.ts';

/**
 * Snapshots published before the structured form (until the roles of a deployment are upgraded,
 * and for the day the metrics topic keeps them) carried their counters and gauges as records keyed
 * `name{a="x",b="y"}` (label values without quotes or backslashes: the publisher replaced them).
 * Only decodeSnapshot (snapshot.ts) reads them; nothing writes this form any more.
 */
export function legacySamples(record: Record<string, number>): MetricSample[] {
  return Object.entries(record).map(([key, value]) => ({ ...parseLegacyKey(key), value }));
}

export function parseLegacyKey(key: string): { name: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace < 0 || !key.endsWith('}')) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of key.slice(brace + 1, -1).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1]!] = m[2]!;
  }
  return { name: key.slice(0, brace), labels };
}
