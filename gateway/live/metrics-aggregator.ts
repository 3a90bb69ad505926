import {
  type CounterDef,
  type GaugeDef,
  type LabelMatch,
  type MetricDef,
  type MetricGroup,
  type MetricSample,
  type MetricsSnapshot,
  ROLE_METRICS,
  sampleMatches,
} from '../../contracts/metrics/index.ts';

/**
 * Turns the roles' metrics snapshots (counter totals since each instance started) into numbers
 * for the whole pipeline: rates and increases summed over instances, gauges combined. Each
 * instance keeps about a minute of its own snapshots, so a rate is the difference between two
 * snapshots of the same process divided by the time between them (on that process's clock): a
 * restart (a new instance name) or a scaled-out instance never produces a negative or doubled rate.
 * Instances silent for `staleAfterMs` (by the gateway's clock) no longer count. Metrics are named
 * by their catalog definition (contracts/metrics/), label values typed by its label names.
 */
export interface MetricMatch<D extends MetricDef> {
  metric: D;
  /** only series with these label values; every series of the metric when omitted */
  labels?: LabelMatch<D>;
}

export interface MetricsAggregator {
  ingest(snapshot: MetricsSnapshot, receivedAt: number): void;
  /** instances heard from within staleAfterMs */
  freshInstances(now: number): number;
  /** when the last snapshot arrived (gateway clock), or null */
  lastReceivedAt(): number | null;
  /** per second over the last `windowMs`; null when no instance has two snapshots to compare */
  rate<L extends string>(match: MetricMatch<CounterDef<L>>, now: number, windowMs?: number): number | null;
  /** counter growth over the last `windowMs`, summed over instances */
  increase<L extends string>(match: MetricMatch<CounterDef<L>>, now: number, windowMs: number): number;
  /** latest counter totals summed over instances */
  total<L extends string>(match: MetricMatch<CounterDef<L>>, now: number): number;
  /** latest gauge values combined over instances; null when none reports it */
  gauge<L extends string>(
    match: MetricMatch<GaugeDef<L>>,
    now: number,
    combine: 'sum' | 'max' | 'min',
  ): number | null;
  /** true when a fresh instance reports a counter or gauge of the group (a catalog section) */
  reports(group: MetricGroup, now: number): boolean;
  /** the values of one label seen on a metric, e.g. the `api` of the pollers */
  labelValues<L extends string>(metric: MetricDef<MetricDef['kind'], L>, label: L, now: number): string[];
  /**
   * What is known of one role (the snapshots' `role`), fresh or not: how many instances are fresh,
   * when the role was last heard from, and which fresh instances say they are stalled and why.
   * Null when no instance of it was heard from in the last 5 minutes.
   */
  role(name: string, now: number): RoleView | null;
  /** when an instance reporting a metric of the group was last heard from (gateway clock) */
  lastReportedAt(group: MetricGroup): number | null;
}

export interface RoleView {
  role: string;
  freshInstances: number;
  lastReceivedAt: number;
  stalled: Array<{ instance: string; reason: string }>;
}

interface Sample {
  at: number;
  /** the snapshot's counters and gauges by metric name */
  byName: Map<string, MetricSample[]>;
}
interface Instance {
  role: string;
  receivedAt: number;
  samples: Sample[];
}
export function createMetricsAggregator(
  opts: { staleAfterMs?: number; retainMs?: number } = {},
): MetricsAggregator {
  const staleAfterMs = opts.staleAfterMs ?? 15_000;
  const retainMs = opts.retainMs ?? 65_000;
  const instances = new Map<string, Instance>();
  let lastReceived: number | null = null;

  const fresh = (now: number) => [...instances.values()].filter((i) => now - i.receivedAt <= staleAfterMs);

  function sum<D extends MetricDef>(sample: Sample, match: MetricMatch<D>): number | undefined {
    let total: number | undefined;
    for (const s of sample.byName.get(match.metric.name) ?? []) {
      if (sampleMatches(s, match.metric, match.labels)) total = (total ?? 0) + s.value;
    }
    return total;
  }

  const reportsAny = (sample: Sample, group: MetricGroup) =>
    Object.values(group).some((m) => sample.byName.has(m.name));

  /** the latest sample and the oldest one within the window before it */
  function span(instance: Instance, windowMs: number): [Sample, Sample] {
    const latest = instance.samples.at(-1)!;
    const base = instance.samples.find((s) => s.at >= latest.at - windowMs) ?? latest;
    return [base, latest];
  }

  return {
    ingest(snapshot, receivedAt) {
      let instance = instances.get(snapshot.instance);
      if (!instance) {
        instance = { role: snapshot.role, receivedAt, samples: [] };
        instances.set(snapshot.instance, instance);
      }
      instance.receivedAt = receivedAt;
      lastReceived = receivedAt;
      const last = instance.samples.at(-1);
      if (last && snapshot.at <= last.at) return; // a replayed or reordered snapshot adds nothing
      const byName = new Map<string, MetricSample[]>();
      for (const s of [...snapshot.counters, ...snapshot.gauges]) {
        const series = byName.get(s.name);
        if (series) series.push(s);
        else byName.set(s.name, [s]);
      }
      instance.samples.push({ at: snapshot.at, byName });
      while (instance.samples.length > 1 && instance.samples[0]!.at < snapshot.at - retainMs) {
        instance.samples.shift();
      }
      for (const [name, i] of instances) {
        if (receivedAt - i.receivedAt > 5 * 60_000) instances.delete(name);
      }
    },
    freshInstances: (now) => fresh(now).length,
    lastReceivedAt: () => lastReceived,
    rate(match, now, windowMs = 5000) {
      let perSec: number | null = null;
      for (const instance of fresh(now)) {
        const [base, latest] = span(instance, windowMs);
        if (base === latest) continue;
        const delta = Math.max(0, (sum(latest, match) ?? 0) - (sum(base, match) ?? 0));
        perSec = (perSec ?? 0) + delta / ((latest.at - base.at) / 1000);
      }
      return perSec;
    },
    increase(match, now, windowMs) {
      let total = 0;
      for (const instance of fresh(now)) {
        const [base, latest] = span(instance, windowMs);
        total += Math.max(0, (sum(latest, match) ?? 0) - (sum(base, match) ?? 0));
      }
      return total;
    },
    total(match, now) {
      return fresh(now).reduce((acc, i) => acc + (sum(i.samples.at(-1)!, match) ?? 0), 0);
    },
    gauge(match, now, combine) {
      const values = fresh(now)
        .map((i) => sum(i.samples.at(-1)!, match))
        .filter((v): v is number => v !== undefined);
      if (values.length === 0) return null;
      if (combine === 'sum') return values.reduce((a, b) => a + b, 0);
      return combine === 'max' ? Math.max(...values) : Math.min(...values);
    },
    reports(group, now) {
      return fresh(now).some((i) => reportsAny(i.samples.at(-1)!, group));
    },
    labelValues(metric, label, now) {
      const seen = new Set<string>();
      for (const i of fresh(now)) {
        for (const s of i.samples.at(-1)!.byName.get(metric.name) ?? []) {
          const value = s.labels[label];
          if (value !== undefined) seen.add(value);
        }
      }
      return [...seen].sort();
    },
    role(name, now) {
      const all = [...instances.entries()].filter(([, i]) => i.role === name);
      if (all.length === 0) return null;
      const stalled: RoleView['stalled'] = [];
      let freshInstances = 0;
      for (const [instanceName, i] of all) {
        if (now - i.receivedAt > staleAfterMs) continue;
        freshInstances++;
        const latest = i.samples.at(-1)!;
        if (sum(latest, { metric: ROLE_METRICS.stalled }) !== 1) continue;
        let reason = 'stalled (no reason given)';
        for (const s of latest.byName.get(ROLE_METRICS.stallInfo.name) ?? [])
          reason = s.labels.reason ?? reason;
        stalled.push({ instance: instanceName, reason });
      }
      const lastReceivedAt = Math.max(...all.map(([, i]) => i.receivedAt));
      return { role: name, freshInstances, lastReceivedAt, stalled };
    },
    lastReportedAt(group) {
      let last: number | null = null;
      for (const i of instances.values()) {
        const reports = reportsAny(i.samples.at(-1)!, group);
        if (reports && (last === null || i.receivedAt > last)) last = i.receivedAt;
      }
      return last;
    },
  };
}
