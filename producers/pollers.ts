import type { Kafka } from 'kafkajs';
import { createKafka } from '../common/kafka.ts';
import { createTopicLimits } from '../common/kafka-limits.ts';
import type { Liveness } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics, startMetricsReporter } from '../common/metrics.ts';
import { createSchemaRegistry, registerValueSchema } from '../common/registry.ts';
import type { InfraOptions } from '../infra/options.ts';
import { APIS } from './apis.ts';
import { createPageCommitter } from './committer.ts';
import { createPollerMetrics, type PollerMetrics } from './metrics.ts';
import { type PollersOptions, transactionalId } from './options.ts';
import { createPoller, type Poller } from './poller.ts';
import { createSourceClient, type SourceExchange } from './source-client.ts';
import { createStateStore } from './state-store.ts';

/**
 * The one place of the pollers role that builds connections: one kafkajs client, one registry
 * client, one source client, then one poller per configured API, all running concurrently.
 */
export interface RunningPollers {
  pollers: Poller[];
  metrics: RoleMetrics;
  /** stops every poller (each finishes and commits its page in flight), then disconnects; once */
  close(): Promise<void>;
}

export async function startPollers(deps: {
  infra: InfraOptions;
  options: PollersOptions;
  logger: Logger;
  /** every source request with its outcome (tests use it to measure Retry-After waits) */
  onExchange?: (exchange: SourceExchange) => void;
  kafka?: Kafka;
  /** the role's liveness: each poller reports its walks */
  liveness?: Liveness;
}): Promise<RunningPollers> {
  const { options, logger } = deps;
  const kafka = deps.kafka ?? createKafka(deps.infra.kafka, 'tributary-pollers', deps.logger);
  const registry = createSchemaRegistry(deps.infra.registry);
  const roleMetrics = createRoleMetrics('pollers');
  const metrics = createPollerMetrics(roleMetrics);

  const source = createSourceClient({
    baseUrl: options.sourceUrl,
    token: options.sourceToken,
    timeoutMs: options.requestTimeoutMs,
    onExchange: (e) => {
      countExchange(metrics, e);
      deps.onExchange?.(e);
    },
  });
  const stateStore = createStateStore({
    kafka,
    topic: options.topics.state,
    groupPrefix: options.transactionalIdPrefix,
    // Another poller's open transaction holds readers back until it ends or times out.
    timeoutMs: options.transactionTimeoutMs + 60_000,
    overlapMs: options.overlapMs,
  });
  const limits = createTopicLimits({ kafka });

  const reporter = await startMetricsReporter({
    kafka,
    topic: options.topics.metrics,
    metrics: [roleMetrics],
    onError: (err) => logger.warn({ err: (err as Error).message }, 'metrics snapshot not published'),
  });

  const pollers = options.pollers.map((name) => {
    const api = APIS[name];
    const topics = options.topics[name];
    return createPoller({
      api,
      topics,
      source,
      stateStore,
      limits,
      metrics,
      logger,
      intervalMs: options.intervalMs,
      pageSize: options.pageSize,
      overlapMs: options.overlapMs,
      retry: options.retry,
      probe: deps.liveness?.probe(`poller ${name}`, 'poller'),
      createCommitter: () =>
        createPageCommitter({
          kafka,
          transactionalId: transactionalId(options, name),
          transactionTimeoutMs: options.transactionTimeoutMs,
          limits,
        }),
      prepareEncoder: async () => {
        const id = await registerValueSchema(registry, topics.raw, api.schema);
        return (record) => registry.encode(id, record);
      },
    });
  });
  logger.info({ pollers: options.pollers, source: options.sourceUrl }, 'pollers started');

  let closing: Promise<void> | undefined;
  return {
    pollers,
    metrics: roleMetrics,
    close() {
      closing ??= (async () => {
        await Promise.all(pollers.map((p) => p.close()));
        await reporter.stop();
        logger.info('pollers stopped');
      })();
      return closing;
    },
  };
}

function countExchange(metrics: PollerMetrics, e: SourceExchange): void {
  metrics.requests.inc({ api: e.api, status: e.status === undefined ? 'none' : String(e.status) });
  if (e.status === 429) metrics.rateLimited.inc({ api: e.api });
}
