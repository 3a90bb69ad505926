import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { describeError, TributaryError } from '../../common/errors.ts';
import { keepConsumerRunning } from '../../common/keep-running.ts';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import { decodeSnapshot } from '../../contracts/metrics/index.ts';
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
  /** this gateway's TRIBUTARY_INSTANCE_ID: part of its group's name, for people reading group lists */
  instance?: string;
  /** further readers of every snapshot (the replay tracker) */
  sinks?: Array<Pick<MetricsAggregator, 'ingest'>>;
  logger: Logger;
  onInvalid?: () => void;
  /** the gateway role's liveness: the feed reports whether its consumer is in its group */
  liveness?: Liveness;
}): Promise<MetricsFeed> {
  // The random part keeps the group this gateway's own even when two gateways were given the same
  // TRIBUTARY_INSTANCE_ID: a shared group would split the snapshots between them (each dashboard
  // silently missing some instances' metrics).
  const groupId = `tributary.gateway.metrics.${deps.instance ? `${deps.instance}.` : ''}${randomUUID()}`;
  let joined = false;
  let error: string | undefined;
  // A crash kafkajs does not restart from is restarted by keepConsumerRunning (same group, so
  // still from the latest offset: old snapshots say nothing about now).
  const kept = keepConsumerRunning({
    groupId,
    topics: [deps.topic],
    logger: deps.logger,
    probe: deps.liveness?.probe(`metrics feed (${deps.topic})`),
    create: () => deps.kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 250 }),
    onCrash: (err) => {
      joined = false;
      error = err.message;
    },
    run: async (consumer) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
        error = undefined;
      });
      await consumer.connect();
      await consumer.subscribe({ topic: deps.topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          const snapshot = decodeSnapshot(message.value);
          if (!snapshot) {
            deps.onInvalid?.();
            return;
          }
          const receivedAt = Date.now();
          deps.aggregator.ingest(snapshot, receivedAt);
          for (const sink of deps.sinks ?? []) sink.ingest(snapshot, receivedAt);
        },
      });
    },
  });
  try {
    await kept.start();
  } catch (err) {
    await kept.close().catch(() => undefined); // the start failure is what the caller needs to see
    throw new TributaryError(`cannot read the metrics topic ${deps.topic}: ${describeError(err)}`, {
      retriable: true,
      cause: err,
      fix: 'run `tributary infra up` (it creates the pipeline topics) or set TRIBUTARY_METRICS_TOPIC',
    });
  }
  return {
    state: () =>
      error ? { ok: false, error } : joined ? { ok: true } : { ok: false, error: 'not joined yet' },
    async close() {
      await kept.close();
      await deps.admin.deleteGroups([groupId]).catch(() => {}); // a per-gateway group: a leftover holds nothing and expires with the broker's group retention
    },
  };
}
