import { hostname } from 'node:os';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import client from 'prom-client';
import {
  type CounterDef,
  encodeSnapshot,
  type GaugeDef,
  type HistogramDef,
  type MetricSample,
  type MetricsSnapshot,
} from '../contracts/metrics/index.ts';

/**
 * Metrics of one role. Each role owns a prom-client registry (served at /metrics by its process)
 * and publishes a snapshot of it about once a second to the `_tributary.metrics` topic, where the
 * gateway aggregates every instance of every role. Every metric is created from its definition in
 * the catalog (contracts/metrics/), so its name, help and label names are written once.
 */
export interface RoleMetrics {
  readonly role: string;
  readonly instance: string;
  readonly registry: client.Registry;
  counter<L extends string>(def: CounterDef<L>): client.Counter<L>;
  /** `collect` sets the value when the registry is read (a gauge that is never stale) */
  gauge<L extends string>(
    def: GaugeDef<L>,
    opts?: { collect?: (this: client.Gauge<L>) => void },
  ): client.Gauge<L>;
  histogram<L extends string>(def: HistogramDef<L>): client.Histogram<L>;
  snapshot(): Promise<MetricsSnapshot>;
}

/** A counter of the catalog in a registry of the caller's (RoleMetrics creates each of its own once). */
export function createCounter<L extends string>(def: CounterDef<L>, registry: client.Registry) {
  return new client.Counter<L>({
    name: def.name,
    help: def.help,
    labelNames: def.labelNames,
    registers: [registry],
  });
}

export function createGauge<L extends string>(
  def: GaugeDef<L>,
  registry: client.Registry,
  collect?: (this: client.Gauge<L>) => void,
) {
  return new client.Gauge<L>({
    name: def.name,
    help: def.help,
    labelNames: def.labelNames,
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

export function createHistogram<L extends string>(def: HistogramDef<L>, registry: client.Registry) {
  return new client.Histogram<L>({
    name: def.name,
    help: def.help,
    labelNames: def.labelNames,
    // prom-client fails when handed `buckets: undefined`
    ...(def.buckets ? { buckets: [...def.buckets] } : {}),
    registers: [registry],
  });
}

/** how many times each role's metrics were created in this process (a role restarted in place) */
const generations = new Map<string, number>();

export function createRoleMetrics(role: string): RoleMetrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ role });
  // A role restarted in place (runtime/role-supervisor.ts) starts its counters again from 0: a new
  // instance name keeps the gateway from comparing them with the old ones.
  const generation = (generations.get(role) ?? 0) + 1;
  generations.set(role, generation);
  const instance = `${role}@${hostname()}:${process.pid}${generation > 1 ? `#${generation}` : ''}`;
  const created = new Map<string, client.Metric<string>>();
  function once<M extends client.Metric<string>>(name: string, make: () => M): M {
    let m = created.get(name);
    if (!m) {
      m = make();
      created.set(name, m);
    }
    return m as M;
  }
  return {
    role,
    instance,
    registry,
    counter: (def) => once(def.name, () => createCounter(def, registry)),
    gauge: (def, opts) => once(def.name, () => createGauge(def, registry, opts?.collect)),
    histogram: (def) => once(def.name, () => createHistogram(def, registry)),
    async snapshot() {
      const counters: MetricSample[] = [];
      const gauges: MetricSample[] = [];
      for (const metric of await registry.getMetricsAsJSON()) {
        const kind = String(metric.type);
        const target = kind === 'counter' ? counters : kind === 'gauge' ? gauges : undefined;
        if (!target) continue;
        for (const v of metric.values) {
          const labels: Record<string, string> = {};
          for (const [k, val] of Object.entries(v.labels)) if (k !== 'role') labels[k] = String(val);
          target.push({ name: metric.name, labels, value: v.value });
        }
      }
      return { role, instance, at: Date.now(), counters, gauges };
    },
  };
}

/**
 * Publishes snapshots of the given roles' metrics to a topic at a fixed interval. The producer is
 * the caller's (connected, non-transactional); `stop()` publishes one last snapshot.
 */
export function startMetricsPublisher(opts: {
  producer: Producer;
  topic: string;
  metrics: RoleMetrics[];
  intervalMs?: number;
  onError?: (err: unknown) => void;
}): { stop(): Promise<void> } {
  const publish = async () => {
    const snapshots = await Promise.all(opts.metrics.map((m) => m.snapshot()));
    await opts.producer.send({
      topic: opts.topic,
      messages: snapshots.map((s) => ({ key: s.instance, value: encodeSnapshot(s) })),
    });
  };
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = publish().catch((err) => opts.onError?.(err));
  }, opts.intervalMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await publish().catch((err) => opts.onError?.(err));
    },
  };
}

/** startMetricsPublisher with its own producer, for roles whose producers are transactional. */
export async function startMetricsReporter(opts: {
  kafka: Kafka;
  topic: string;
  metrics: RoleMetrics[];
  intervalMs?: number;
  onError?: (err: unknown) => void;
}): Promise<{ stop(): Promise<void> }> {
  // Idempotent with acks=all (kafkajs' default) like every producer of the project, so a snapshot
  // survives a broker's loss in a cluster. kafkajs' default partitioner, spelled out: it warns otherwise.
  const producer = opts.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const publisher = startMetricsPublisher({ ...opts, producer });
  return {
    async stop() {
      await publisher.stop();
      await producer.disconnect();
    },
  };
}
