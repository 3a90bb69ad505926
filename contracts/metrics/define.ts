/**
 * How a metric is declared in the catalog (contracts/metrics/): its Prometheus name, type, help
 * text and label names, once. Emitters create their prom-client metric from the definition
 * (`RoleMetrics.counter(def)` in common/metrics.ts) and readers match snapshots against it, so a
 * name or a label is never spelled twice and a label the definition lacks does not compile.
 */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricDef<K extends MetricKind = MetricKind, L extends string = string> {
  readonly kind: K;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** histograms only: the bucket bounds (prom-client's defaults when absent) */
  readonly buckets?: readonly number[];
}

export type CounterDef<L extends string = string> = MetricDef<'counter', L>;
export type GaugeDef<L extends string = string> = MetricDef<'gauge', L>;
export type HistogramDef<L extends string = string> = MetricDef<'histogram', L>;

/** The label names of a definition, e.g. `'api' | 'status'`. */
export type LabelsOf<D> = D extends MetricDef<MetricKind, infer L> ? L : never;

export function counter<const L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): CounterDef<L> {
  return { kind: 'counter', name, help, labelNames };
}

export function gauge<const L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): GaugeDef<L> {
  return { kind: 'gauge', name, help, labelNames };
}

export function histogram<const L extends string = never>(
  name: string,
  help: string,
  opts: { labelNames?: readonly L[]; buckets?: readonly number[] } = {},
): HistogramDef<L> {
  return {
    kind: 'histogram',
    name,
    help,
    labelNames: opts.labelNames ?? [],
    ...(opts.buckets ? { buckets: opts.buckets } : {}),
  };
}
