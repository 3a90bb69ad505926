import type { LabelsOf, MetricDef } from './define.ts';
import { legacySamples } from './legacy-snapshot.ts';

/**
 * What every role publishes to the metrics topic (`_tributary.metrics`) about once a second
 * (common/metrics.ts) and the gateway and `tributary status` read back: its counters and gauges as
 * structured samples. Counters are totals since the instance started; readers turn them into rates.
 */
export interface MetricSample {
  name: string;
  /** without the `role` label every series of a role's registry has (the snapshot says the role) */
  labels: Record<string, string>;
  value: number;
}

export interface MetricsSnapshot {
  role: string;
  /** unique per process+role, so restarts and scaled-out instances are told apart */
  instance: string;
  /** epoch ms, on the publisher's clock */
  at: number;
  counters: MetricSample[];
  gauges: MetricSample[];
}

/** Label values to match, typed by the definition's label names; absent labels match anything. */
export type LabelMatch<D extends MetricDef> = Partial<Record<LabelsOf<D>, string>>;

export function encodeSnapshot(snapshot: MetricsSnapshot): string {
  return JSON.stringify(snapshot);
}

/**
 * A snapshot, or undefined when the message is not one (the caller skips it: not fatal). The topic
 * keeps snapshots for up to a day, so a reader upgraded before the roles also meets the older form,
 * whose counters and gauges were `{ 'name{k="v"}': value }` records: it is read through
 * legacySamples (legacy-snapshot.ts) rather than skipped, so a gateway upgraded first keeps showing
 * the pipeline instead of every stage stale until the last role is upgraded.
 */
export function decodeSnapshot(value: Buffer | string | null | undefined): MetricsSnapshot | undefined {
  if (value === null || value === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (typeof s.instance !== 'string' || typeof s.role !== 'string' || typeof s.at !== 'number') {
    return undefined;
  }
  const counters = samplesFrom(s.counters);
  const gauges = samplesFrom(s.gauges);
  if (!counters || !gauges) return undefined;
  return { role: s.role, instance: s.instance, at: s.at, counters, gauges };
}

function samplesFrom(v: unknown): MetricSample[] | undefined {
  if (Array.isArray(v)) return v.every(isSample) ? (v as MetricSample[]) : undefined;
  if (typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number')) {
    return legacySamples(v as Record<string, number>);
  }
  return undefined;
}

function isSample(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return (
    typeof s.name === 'string' &&
    typeof s.value === 'number' &&
    typeof s.labels === 'object' &&
    s.labels !== null &&
    Object.values(s.labels).every((l) => typeof l === 'string')
  );
}

/** Whether a sample is a series of the metric with the given label values. */
export function sampleMatches<D extends MetricDef>(
  sample: MetricSample,
  metric: D,
  labels?: LabelMatch<D>,
): boolean {
  if (sample.name !== metric.name) return false;
  if (!labels) return true;
  return Object.entries(labels).every(([k, want]) => want === undefined || sample.labels[k] === want);
}

/** The sum of the metric's matching series, or undefined when none is in the samples. */
export function sampleSum<D extends MetricDef>(
  samples: readonly MetricSample[],
  metric: D,
  labels?: LabelMatch<D>,
): number | undefined {
  let total: number | undefined;
  for (const s of samples) if (sampleMatches(s, metric, labels)) total = (total ?? 0) + s.value;
  return total;
}

/** A sample of a catalog metric, typed by its label names (tests and hand-made snapshots). */
export function sample<D extends MetricDef>(
  metric: D,
  value: number,
  labels: Record<LabelsOf<D>, string> | Record<string, never> = {},
): MetricSample {
  return { name: metric.name, labels: { ...labels }, value };
}
