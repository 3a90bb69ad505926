import client from 'prom-client';
import { createKafka } from '../common/kafka.ts';
import { createLiveness, type Liveness, registerLivenessMetrics } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { serverUrl } from '../common/ops-server.ts';
import { createSchemaRegistry } from '../common/registry.ts';
import type { InfraOptions } from '../infra/options.ts';
import { createReadOnlyPool } from './analytics/db.ts';
import { createLineageService } from './analytics/lineage.ts';
import { createAnalytics } from './analytics/queries.ts';
import { buildApp, type GatewayApp } from './app.ts';
import { startLiveHub } from './live/hub.ts';
import { createKafkaWatch } from './live/kafka-watch.ts';
import { createMetricsAggregator } from './live/metrics-aggregator.ts';
import { startMetricsFeed } from './live/metrics-feed.ts';
import { createOffsetHistory } from './live/offset-history.ts';
import { createReplayTracker } from './live/replays.ts';
import type { GatewayOptions } from './options.ts';

export interface Gateway {
  app: GatewayApp;
  /** where it listens, e.g. http://127.0.0.1:3000 */
  url: string;
  metrics: RoleMetrics;
  /** stops accepting, disconnects sockets, stops the live loop, closes Kafka and Postgres; once */
  close(): Promise<void>;
}

/**
 * The one place the gateway builds its connections (a read-only Postgres pool, one Kafka admin,
 * one metrics consumer), wires them into the app and listens. Used by gateway/server.ts (its own
 * process) and gateway/role.ts (inside `tributary start`).
 */
export async function startGateway(deps: {
  options: GatewayOptions;
  infra: InfraOptions;
  logger: Logger;
  /** the role's liveness (run-roles passes it); a standalone gateway keeps its own */
  liveness?: Liveness;
}): Promise<Gateway> {
  const { options, logger } = deps;
  const metrics = createRoleMetrics('gateway');
  const liveness = deps.liveness ?? createLiveness();
  registerLivenessMetrics(metrics, liveness);
  const processRegistry = new client.Registry();
  client.collectDefaultMetrics({ register: processRegistry, prefix: 'tributary_gateway_' });
  const ticks = metrics.counter('tributary_gateway_live_ticks_total', 'live updates built');
  const tickErrors = metrics.counter('tributary_gateway_live_tick_errors_total', 'ticks with a source down');
  const invalid = metrics.counter('tributary_gateway_invalid_snapshots_total', 'unreadable metrics messages');

  const pool = createReadOnlyPool(options.postgresUrl ?? deps.infra.postgres.url);
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres connection failed'));
  // few retries: a tick that cannot reach Kafka reports it and the next tick tries again
  const kafka = createKafka(deps.infra.kafka, 'tributary-gateway', logger, { retries: 2 });
  const admin = kafka.admin();
  const closers: Array<() => Promise<unknown>> = [() => pool.end()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    await admin.connect();
    closers.push(() => admin.disconnect());
    const aggregator = createMetricsAggregator();
    const replays = createReplayTracker();
    const offsets = createOffsetHistory({ retainMs: options.historySeconds * 1000 });
    const feed = await startMetricsFeed({
      kafka,
      admin,
      topic: options.metricsTopic,
      aggregator,
      sinks: [replays],
      logger,
      onInvalid: () => invalid.inc(),
      liveness,
    });
    closers.push(() => feed.close());
    const analytics = createAnalytics({ pool, table: options.goldTable });
    const watch = await createKafkaWatch({
      kafka,
      offsets,
      topics: [...options.rawTopics, options.goldTopic, ...options.dlqTopics],
      groups: options.lagGroups,
      groupPrefix: options.lagGroupPrefix,
      excludePrefix: 'tributary.gateway.',
    });
    closers.push(() => watch.close());
    const hub = startLiveHub({
      metrics: aggregator,
      replays,
      offsets,
      kafka: watch,
      analytics,
      metricsState: feed.state,
      logger,
      options,
      onTick: (_ms, errors) => {
        ticks.inc();
        if (errors.length > 0) tickErrors.inc();
      },
    });
    closers.push(() => hub.stop());
    const ready = async () => {
      await Promise.all([analytics.ping(), admin.describeCluster()]);
      const { stalled, reason } = liveness.status();
      return { ready: !stalled, roles: { gateway: stalled ? { stalled, reason } : { stalled } } };
    };
    const lineage = createLineageService({
      kafka,
      admin,
      registry: createSchemaRegistry(deps.infra.registry),
      pool,
      mongoUrl: deps.infra.mongo.url,
      options: options.lineage,
    });
    closers.push(() => lineage.close());
    const app = await buildApp({ options, analytics, lineage, hub, metrics, processRegistry, ready, logger });
    closers.push(() => app.close());
    await app.listen({ host: options.host, port: options.port });
    let closing: Promise<void> | undefined;
    return {
      app,
      url: serverUrl(app),
      metrics,
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
