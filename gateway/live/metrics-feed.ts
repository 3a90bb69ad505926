import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { describeError, TributaryError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { MetricsSnapshot } from '../../common/metrics.ts';
import type { SourceState } from '../events.ts';
import type { MetricsAggregator } from './metrics-aggregator.ts';

/**
 * Reads the `_tributary.metrics` topic into the aggregator. Every gateway uses its own throwaway
 * group and starts from the latest offset: each gateway must see every snapshot (a shared group
 * would split them), and old snapshots say nothing about now. Nothing is committed; the group is
 * deleted on close so they do not pile up in the broker.
 */
export interface MetricsFeed {
  state(): SourceState;
  close(): Promise<void>;
}

export async function startMetricsFeed(deps: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  aggregator: MetricsAggregator;
  /** further readers of every snapshot (the replay tracker) */
  sinks?: Array<Pick<MetricsAggregator, 'ingest'>>;
  logger: Logger;
  onInvalid?: () => void;
}): Promise<MetricsFeed> {
  const groupId = `tributary.gateway.metrics.${randomUUID()}`;
  const consumer = deps.kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 250 });
  let joined = false;
  let error: string | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    error = undefined;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    error = payload.error.message;
    deps.logger.warn({ err: payload.error.message, restart: payload.restart }, 'metrics consumer crashed');
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: deps.topic, fromBeginning: false });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw new TributaryError(`cannot read the metrics topic ${deps.topic}: ${describeError(err)}`, {
      retriable: true,
      cause: err,
      fix: 'run `tributary infra up` (it creates the pipeline topics) or set TRIBUTARY_METRICS_TOPIC',
    });
  }
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const snapshot = parseSnapshot(message.value);
      if (!snapshot) {
        deps.onInvalid?.();
        return;
      }
      const receivedAt = Date.now();
      deps.aggregator.ingest(snapshot, receivedAt);
      for (const sink of deps.sinks ?? []) sink.ingest(snapshot, receivedAt);
    },
  });
  return {
    state: () =>
      error ? { ok: false, error } : joined ? { ok: true } : { ok: false, error: 'not joined yet' },
    async close() {
      await consumer.disconnect();
      await deps.admin.deleteGroups([groupId]).catch(() => {});
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
