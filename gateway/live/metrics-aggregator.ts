import { STALL_INFO_GAUGE, STALLED_GAUGE } from '../../common/liveness.ts';
import type { MetricsSnapshot } from '../../common/metrics.ts';

/**
 * Turns the roles' metrics snapshots (counter totals since each instance started) into numbers
 * for the whole pipeline: rates and increases summed over instances, gauges combined. Each
 * instance keeps about a minute of its own snapshots, so a rate is the difference between two
 * snapshots of the same process divided by the time between them (on that process's clock): a
 * restart (a new instance name) or a scaled-out instance never produces a negative or doubled rate.
 * Instances silent for `staleAfterMs` (by the gateway's clock) no longer count.
 */
export interface MetricMatch {
  name: string;
  /** only series with these label values; every series of the name when omitted */
  labels?: Record<string, string>;
}

export interface MetricsAggregator {
  ingest(snapshot: MetricsSnapshot, receivedAt: number): void;
  /** instances heard from within staleAfterMs */
  freshInstances(now: number): number;
  /** when the last snapshot arrived (gateway clock), or null */
  lastReceivedAt(): number | null;
  /** per second over the last `windowMs`; null when no instance has two snapshots to compare */
  rate(match: MetricMatch, now: number, windowMs?: number): number | null;
  /** counter growth over the last `windowMs`, summed over instances */
  increase(match: MetricMatch, now: number, windowMs: number): number;
  /** latest counter totals summed over instances */
  total(match: MetricMatch, now: number): number;
  /** latest gauge values combined over instances; null when none reports it */
  gauge(match: MetricMatch, now: number, combine: 'sum' | 'max' | 'min'): number | null;
  /** true when a fresh instance reports a counter or gauge whose name starts with the prefix */
  reports(prefix: string, now: number): boolean;
  /** the values of one label seen on a metric, e.g. the `api` of the pollers */
  labelValues(name: string, label: string, now: number): string[];
  /**
   * What is known of one role (the snapshots' `role`), fresh or not: how many instances are fresh,
   * when the role was last heard from, and which fresh instances say they are stalled and why.
   * Null when no instance of it was heard from in the last 5 minutes.
   */
  role(name: string, now: number): RoleView | null;
  /** when an instance reporting a metric with this prefix was last heard from (gateway clock) */
  lastReportedAt(prefix: string): number | null;
}

export interface RoleView {
  role: string;
  freshInstances: number;
  lastReceivedAt: number;
  stalled: Array<{ instance: string; reason: string }>;
}

interface Sample {
  at: number;
  values: Map<string, number>;
}
interface Instance {
  role: string;
  receivedAt: number;
  samples: Sample[];
}
interface ParsedKey {
  name: string;
  labels: Record<string, string>;
}

export function createMetricsAggregator(
  opts: { staleAfterMs?: number; retainMs?: number } = {},
): MetricsAggregator {
  const staleAfterMs = opts.staleAfterMs ?? 15_000;
  const retainMs = opts.retainMs ?? 65_000;
  const instances = new Map<string, Instance>();
  const parsed = new Map<string, ParsedKey>();
  let lastReceived: number | null = null;

  const fresh = (now: number) => [...instances.values()].filter((i) => now - i.receivedAt <= staleAfterMs);

  function matches(key: string, match: MetricMatch): boolean {
    let p = parsed.get(key);
    if (!p) {
      p = parseKey(key);
      parsed.set(key, p);
    }
    if (p.name !== match.name) return false;
    return Object.entries(match.labels ?? {}).every(([k, v]) => p.labels[k] === v);
  }

  function sum(sample: Sample, match: MetricMatch): number | undefined {
    let total: number | undefined;
    for (const [key, value] of sample.values) {
      if (matches(key, match)) total = (total ?? 0) + value;
    }
    return total;
  }

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
      const values = new Map<string, number>();
      for (const [k, v] of Object.entries(snapshot.counters ?? {})) values.set(k, v);
      for (const [k, v] of Object.entries(snapshot.gauges ?? {})) values.set(k, v);
      instance.samples.push({ at: snapshot.at, values });
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
    reports(prefix, now) {
      return fresh(now).some((i) => [...i.samples.at(-1)!.values.keys()].some((k) => k.startsWith(prefix)));
    },
    labelValues(name, label, now) {
      const seen = new Set<string>();
      for (const i of fresh(now)) {
        for (const key of i.samples.at(-1)!.values.keys()) {
          const value = matches(key, { name }) ? parsed.get(key)!.labels[label] : undefined;
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
        const values = i.samples.at(-1)!.values;
        if (values.get(STALLED_GAUGE) !== 1) continue;
        let reason = 'stalled (no reason given)';
        for (const key of values.keys()) {
          if (key.startsWith(`${STALL_INFO_GAUGE}{`)) reason = parseKey(key).labels.reason ?? reason;
        }
        stalled.push({ instance: instanceName, reason });
      }
      const lastReceivedAt = Math.max(...all.map(([, i]) => i.receivedAt));
      return { role: name, freshInstances, lastReceivedAt, stalled };
    },
    lastReportedAt(prefix) {
      let last: number | null = null;
      for (const i of instances.values()) {
        const reports = [...i.samples.at(-1)!.values.keys()].some((k) => k.startsWith(prefix));
        if (reports && (last === null || i.receivedAt > last)) last = i.receivedAt;
      }
      return last;
    },
  };
}

/** `name{a="x",b="y"}` as written by common/metrics.ts snapshot(). */
export function parseKey(key: string): ParsedKey {
  const brace = key.indexOf('{');
  if (brace < 0 || !key.endsWith('}')) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of key.slice(brace + 1, -1).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1]!] = m[2]!;
  }
  return { name: key.slice(0, brace), labels };
}
