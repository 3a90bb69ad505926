import { hostname } from 'node:os';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import client from 'prom-client';

/**
 * Metrics of one role. Each role owns a prom-client registry (served at /metrics by its process)
 * and publishes a snapshot of it about once a second to the `_tributary.metrics` topic, where the
 * gateway aggregates every instance of every role. Counters are totals since the instance started;
 * the gateway turns them into rates.
 */
export interface MetricsSnapshot {
  role: string;
  /** unique per process+role, so restarts and scaled-out instances are told apart */
  instance: string;
  /** epoch ms */
  at: number;
  /** metric name (plus `{label="value"}` when labelled) → value */
  counters: Record<string, number>;
  gauges: Record<string, number>;
}

export interface RoleMetrics {
  readonly role: string;
  readonly instance: string;
  readonly registry: client.Registry;
  counter(name: string, help: string, labelNames?: string[]): client.Counter<string>;
  gauge(name: string, help: string, labelNames?: string[]): client.Gauge<string>;
  histogram(name: string, help: string, buckets?: number[]): client.Histogram<string>;
  snapshot(): Promise<MetricsSnapshot>;
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
    counter: (name, help, labelNames = []) =>
      once(name, () => new client.Counter({ name, help, labelNames, registers: [registry] })),
    gauge: (name, help, labelNames = []) =>
      once(name, () => new client.Gauge({ name, help, labelNames, registers: [registry] })),
    histogram: (name, help, buckets) =>
      once(
        name,
        () => new client.Histogram({ name, help, ...(buckets ? { buckets } : {}), registers: [registry] }),
      ),
    async snapshot() {
      const counters: Record<string, number> = {};
      const gauges: Record<string, number> = {};
      for (const metric of await registry.getMetricsAsJSON()) {
        const kind = String(metric.type);
        const target = kind === 'counter' ? counters : kind === 'gauge' ? gauges : undefined;
        if (!target) continue;
        for (const v of metric.values) {
          const labels = Object.entries(v.labels)
            .filter(([k]) => k !== 'role')
            .map(([k, val]) => `${k}="${val}"`)
            .join(',');
          target[labels ? `${metric.name}{${labels}}` : metric.name] = v.value;
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
      messages: snapshots.map((s) => ({ key: s.instance, value: JSON.stringify(s) })),
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

/** A snapshot, or undefined when the message is not one (it is skipped, not fatal). */
export function parseSnapshot(value: Buffer | null): MetricsSnapshot | undefined {
  if (!value) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<MetricsSnapshot>;
  const numbers = (o: unknown) =>
    typeof o === 'object' && o !== null && Object.values(o).every((x) => typeof x === 'number');
  if (typeof s.instance !== 'string' || typeof s.role !== 'string' || typeof s.at !== 'number')
    return undefined;
  if (!numbers(s.counters) || !numbers(s.gauges)) return undefined;
  return s as MetricsSnapshot;
}
