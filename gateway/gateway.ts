import client from 'prom-client';
import { createLiveness, type Liveness, registerLivenessMetrics } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { serverUrl } from '../common/ops-server.ts';
import { GATEWAY_METRICS, GATEWAY_PROCESS_METRICS_PREFIX } from '../contracts/metrics/index.ts';
import { type ClientFactory, componentClients } from '../runtime/clients.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';
import { type Alerts, startAlerts } from './alerts/start.ts';
import { createReadOnlyPool } from './analytics/db.ts';
import { createLineageService } from './analytics/lineage.ts';
import { createAnalytics } from './analytics/queries.ts';
import { buildApp, type GatewayApp } from './app.ts';
import { startLiveHub } from './live/hub.ts';
import { createKafkaWatch } from './live/kafka-watch.ts';
import { withLagGauges } from './live/lag-gauges.ts';
import { createMetricsAggregator } from './live/metrics-aggregator.ts';
import { startMetricsFeed } from './live/metrics-feed.ts';
import { createOffsetHistory } from './live/offset-history.ts';
import { createReplayTracker } from './live/replays.ts';
import type { GatewayOptions } from './options.ts';
import { startWalks, type Walks } from './walks/index.ts';
import type { WalksOptions } from './walks/options.ts';

export interface Gateway {
  app: GatewayApp;
  /** where it listens, e.g. http://127.0.0.1:3000 */
  url: string;
  metrics: RoleMetrics;
  /** the reconciliation per walk, when enabled (its health() is what an alert rule reads) */
  walks?: Walks;
  /** stops accepting, disconnects sockets, stops the live loop, closes Kafka and Postgres; once */
  close(): Promise<void>;
}

/**
 * Wires the gateway's connections (from the client factory: a read-only Postgres pool, one Kafka
 * admin; and one metrics consumer) into the app and listens. Used by gateway/role.ts (inside
 * `tributary start`, with the role's clients), gateway/server.ts and the tests (with clients of its
 * own, closed by close()).
 */
export async function startGateway(
  deps: {
    options: GatewayOptions;
    logger: Logger;
    /** the role's liveness (run-roles passes it); a standalone gateway keeps its own */
    liveness?: Liveness;
    /** reconcile poller walks (gateway/walks/options.ts); the role and server.ts pass it */
    walks?: WalksOptions;
  } & (
    | { /** the role's clients: the runtime closes them after close() */ clients: ClientFactory }
    | {
        infra: InfraOptions;
        /** where TRIBUTARY_INSTANCE_ID is read (common/instance.ts); the process environment by default */
        env?: NodeJS.ProcessEnv;
      }
  ),
): Promise<Gateway> {
  const { options, logger } = deps;
  const { clients, own } = componentClients(deps, 'gateway', logger);
  const metrics = createRoleMetrics('gateway');
  const liveness = deps.liveness ?? createLiveness();
  registerLivenessMetrics(metrics, liveness);
  const processRegistry = new client.Registry();
  client.collectDefaultMetrics({ register: processRegistry, prefix: GATEWAY_PROCESS_METRICS_PREFIX });
  const ticks = metrics.counter(GATEWAY_METRICS.liveTicks);
  const tickErrors = metrics.counter(GATEWAY_METRICS.liveTickErrors);
  const invalid = metrics.counter(GATEWAY_METRICS.invalidSnapshots);

  const pool = clients.track(
    'postgres (read-only)',
    createReadOnlyPool(options.postgresUrl ?? clients.endpoints.postgres.url),
    (p) => p.end(),
  );
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres connection failed'));
  // few retries: a tick that cannot reach Kafka reports it and the next tick tries again
  const kafka = clients.kafka({ retries: 2 });
  // What the gateway built on its clients; the clients themselves (pool, admin) close after these.
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((e) => logger.warn({ err: e }, 'gateway: a client did not close'));
    await own?.closeAll();
  };
  try {
    const admin = await clients.admin(kafka);
    const aggregator = createMetricsAggregator();
    const replays = createReplayTracker();
    const offsets = createOffsetHistory({ retainMs: options.historySeconds * 1000 });
    const feed = await startMetricsFeed({
      kafka,
      admin,
      topic: options.metricsTopic,
      aggregator,
      instance: clients.instance,
      sinks: [replays],
      logger,
      onInvalid: () => invalid.inc(),
      liveness,
    });
    closers.push(() => feed.close());
    let walks: Walks | undefined;
    if (deps.walks) {
      const started = await startWalks({
        kafka,
        admin,
        postgresUrl: clients.endpoints.postgres.url,
        goldTable: options.goldTable,
        options: deps.walks,
        metrics,
        logger,
        liveness,
      });
      walks = started;
      closers.push(() => started.close());
    }
    const analytics = createAnalytics({ pool, table: options.goldTable });
    const watchedTopics = [...options.rawTopics, options.goldTopic, ...options.dlqTopics];
    const kafkaWatch = await createKafkaWatch({
      kafka,
      offsets,
      topics: watchedTopics,
      groups: options.lagGroups,
      groupPrefix: options.lagGroupPrefix,
      pipelineGroups: options.pipelineGroups,
      excludePrefix: 'tributary.gateway.',
    });
    // kafka-exporter's lag gauges, served next to the process metrics (without the role label)
    const watch = withLagGauges(kafkaWatch, offsets, processRegistry, watchedTopics);
    closers.push(() => watch.close());
    const hub = startLiveHub({
      metrics: aggregator,
      replays,
      offsets,
      kafka: watch,
      analytics,
      metricsState: feed.state,
      walks: walks && (() => walks.latest()),
      logger,
      options,
      onTick: (_ms, errors) => {
        ticks.inc();
        if (errors.length > 0) tickErrors.inc();
      },
    });
    closers.push(() => hub.stop());
    let url: string | undefined;
    const alerts: Alerts = startAlerts({
      config: options.alerts,
      hub,
      aggregator,
      offsets,
      dlqTopics: options.dlqTopics,
      pool,
      goldTable: options.goldTable,
      metrics,
      logger,
      dashboardUrl: () => (url ? `${url}/` : undefined),
    });
    closers.push(() => alerts.close());
    const ready = async () => {
      await Promise.all([analytics.ping(), admin.describeCluster()]);
      const { stalled, reason } = liveness.status();
      return { ready: !stalled, roles: { gateway: stalled ? { stalled, reason } : { stalled } } };
    };
    const lineage = createLineageService({
      kafka,
      admin,
      registry: clients.registry(),
      pool,
      mongoUrl: clients.endpoints.mongo.url,
      options: options.lineage,
    });
    closers.push(() => lineage.close());
    const app = await buildApp({
      options,
      analytics,
      lineage,
      hub,
      alerts: alerts.engine,
      metrics,
      processRegistry,
      ready,
      logger,
      walks,
    });
    closers.push(() => app.close());
    await app.listen({ host: options.host, port: options.port });
    url = serverUrl(app);
    let closing: Promise<void> | undefined;
    return {
      app,
      url: serverUrl(app),
      metrics,
      walks,
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
