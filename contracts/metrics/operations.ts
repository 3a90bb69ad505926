import { counter, gauge } from './define.ts';

/**
 * The metrics that say how the pipeline runs rather than what flows through it: every role's
 * liveness, replay progress, the gateway's own (live ticks, sockets, alerts, walk reconciliation)
 * and the consumer lag it exports. Names and labels are a public contract (scrapes, dashboards,
 * alert rules).
 */

/** Every role (common/liveness.ts): read when collected, never stale. */
export const ROLE_METRICS = {
  stalled: gauge(
    'tributary_role_stalled',
    '1 while the role cannot make progress (see tributary_role_stall_info for why), else 0',
  ),
  stallInfo: gauge(
    'tributary_role_stall_info',
    'why the role is stalled, in the reason label; absent when it is not',
    ['reason'],
  ),
} as const;

/** The `role` of the snapshots `tributary replay` publishes (they carry REPLAY_METRICS only). */
export const REPLAY_ROLE = 'replay';

/** `tributary replay` (ops/replay-progress.ts), shown live by the gateway; ops/README.md. */
export const REPLAY_METRICS = {
  lag: gauge('tributary_replay_lag_messages', 'messages of the replay still to reprocess', ['group']),
  total: gauge('tributary_replay_total_messages', 'messages the replay reprocesses', ['group']),
  members: gauge('tributary_replay_group_members', 'members of the replayed group', ['group']),
} as const;

/** gateway/ itself: the live feed, the dashboard sockets and the alerts. */
export const GATEWAY_METRICS = {
  liveTicks: counter('tributary_gateway_live_ticks_total', 'live updates built'),
  liveTickErrors: counter('tributary_gateway_live_tick_errors_total', 'ticks with a source down'),
  invalidSnapshots: counter('tributary_gateway_invalid_snapshots_total', 'unreadable metrics messages'),
  socketClients: gauge('tributary_gateway_socket_clients', 'connected dashboard sockets'),
  alertTransitions: counter('tributary_gateway_alert_transitions_total', 'alerts that fired or resolved', [
    'rule',
    'transition',
  ]),
  alertWebhookDeliveries: counter(
    'tributary_gateway_alert_webhook_deliveries_total',
    'webhook deliveries of alerts, after retries',
    ['webhook', 'outcome'],
  ),
  alertsFiring: gauge('tributary_gateway_alerts_firing', 'alerts firing now'),
} as const;

/** The prefix of the gateway process's default metrics (prom-client's collectDefaultMetrics). */
export const GATEWAY_PROCESS_METRICS_PREFIX = 'tributary_gateway_';

/** gateway/walks/: per polled API. */
export const WALK_METRICS = {
  unreconciled: gauge(
    'tributary_walks_unreconciled',
    'poller walks with a served version found neither in bronze nor in a dead-letter topic',
    ['api'],
  ),
  pending: gauge('tributary_walks_pending', 'poller walks bronze has not caught up with', ['api']),
  oldestPendingSeconds: gauge(
    'tributary_walks_oldest_pending_seconds',
    'age of the oldest walk still waiting for bronze',
    ['api'],
  ),
  reconcileErrors: counter('tributary_walks_reconcile_errors_total', 'reconciliation passes that failed'),
} as const;

/**
 * Consumer lag on the gateway's /metrics, in kafka-exporter's shape (danielqsj/kafka_exporter) so
 * the Grafana dashboards written for it work unchanged, plus the lag in seconds it has not
 * (gateway/live/lag-gauges.ts). Without the role label: kafka-exporter's series have none.
 */
export const LAG_EXPORT_METRICS = {
  lag: gauge('kafka_consumergroup_lag', 'Current approximate lag of a consumer group at topic/partition', [
    'consumergroup',
    'topic',
    'partition',
  ]),
  lagSum: gauge('kafka_consumergroup_lag_sum', 'Current approximate lag of a consumer group at topic', [
    'consumergroup',
    'topic',
  ]),
  currentOffset: gauge(
    'kafka_consumergroup_current_offset',
    'Current committed offset of a consumer group at topic/partition',
    ['consumergroup', 'topic', 'partition'],
  ),
  topicEnd: gauge('kafka_topic_partition_current_offset', 'Current offset of a topic/partition', [
    'topic',
    'partition',
  ]),
  topicStart: gauge('kafka_topic_partition_oldest_offset', 'Oldest offset of a topic/partition', [
    'topic',
    'partition',
  ]),
  lagSeconds: gauge(
    'tributary_consumergroup_lag_seconds',
    'Age of the oldest message a consumer group has not consumed (0 when caught up), estimated from end-offset history',
    ['consumergroup'],
  ),
} as const;
