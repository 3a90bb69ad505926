import type { MetricDef } from './define.ts';
import { MOCK_SOURCE_METRICS } from './mock-source.ts';
import {
  GATEWAY_METRICS,
  GATEWAY_PROCESS_METRICS_PREFIX,
  LAG_EXPORT_METRICS,
  REPLAY_METRICS,
  REPLAY_ROLE,
  ROLE_METRICS,
  WALK_METRICS,
} from './operations.ts';
import { BRONZE_METRICS, GOLD_SINK_METRICS, POLLER_METRICS, PROCESSOR_METRICS } from './pipeline.ts';

/**
 * The catalog of every metric Tributary emits, one definition each (name, type, help, labels),
 * grouped by the component that emits it. Emitters create their metrics from it
 * (`metrics.counter(METRICS.bronze.rowsWritten)`), readers match on it
 * (`aggregator.rate({ metric: METRICS.bronze.rowsWritten }, …)`); nothing spells a name again.
 * gateway/README.md lists them for people.
 */
export const METRICS = {
  pollers: POLLER_METRICS,
  bronze: BRONZE_METRICS,
  processor: PROCESSOR_METRICS,
  goldSinks: GOLD_SINK_METRICS,
  role: ROLE_METRICS,
  replay: REPLAY_METRICS,
  gateway: GATEWAY_METRICS,
  walks: WALK_METRICS,
  lagExport: LAG_EXPORT_METRICS,
  mockSource: MOCK_SOURCE_METRICS,
} as const;

/** A section of the catalog: the metrics of one component. */
export type MetricGroup = Readonly<Record<string, MetricDef>>;

/** Every definition of the catalog. */
export function allMetrics(): MetricDef[] {
  return Object.values(METRICS).flatMap((group: MetricGroup) => Object.values(group));
}

export * from './define.ts';
export * from './snapshot.ts';
export {
  BRONZE_METRICS,
  GATEWAY_METRICS,
  GATEWAY_PROCESS_METRICS_PREFIX,
  GOLD_SINK_METRICS,
  LAG_EXPORT_METRICS,
  MOCK_SOURCE_METRICS,
  POLLER_METRICS,
  PROCESSOR_METRICS,
  REPLAY_METRICS,
  REPLAY_ROLE,
  ROLE_METRICS,
  WALK_METRICS,
};
