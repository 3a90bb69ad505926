import { describeError } from '../common/errors.ts';
import { createTopicLimits } from '../common/kafka-limits.ts';
import type { Liveness, Probe } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import { createRoleMetrics, type RoleMetrics } from '../common/metrics.ts';
import { registerValueSchema } from '../common/registry.ts';
import { type ClientFactory, componentClients } from '../runtime/clients.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';
import { APIS, type ApiName } from './apis.ts';
import { createPageCommitter } from './committer.ts';
import { createPollerMetrics, type PollerMetrics } from './metrics.ts';
import { type PollersOptions, transactionalId } from './options.ts';
import { createOwnership, ownerOf } from './owners.ts';
import { createPoller, type Poller } from './poller.ts';
import { createSourceClient, type SourceExchange } from './source-client.ts';
import { createStateStore } from './state-store.ts';
import { assertStatePartitions } from './state-topic.ts';
import { createWalkRecorder } from './walks.ts';

/**
 * The pollers of this process: their connections come from the role's client factory (one kafkajs
 * client, one registry client, an admin, the metrics producer), plus one source client. Which APIs this process polls is not configured but assigned: every
 * pollers process joins the pollers' group (owners.ts, ownership.ts), which gives each API to
 * exactly one of them; a poller is started for each API assigned here and stopped (finishing its
 * page in flight) when the group takes it away.
 */
export interface RunningPollers {
  /** the pollers running now (the group's assignment changes them) */
  pollers(): Poller[];
  metrics: RoleMetrics;
  /** stops every poller (each finishes and commits its page in flight), then leaves the group; once */
  close(): Promise<void>;
}

export async function startPollers(
  deps: {
    options: PollersOptions;
    logger: Logger;
    /** every source request with its outcome (tests use it to measure Retry-After waits) */
    onExchange?: (exchange: SourceExchange) => void;
    /** the role's liveness: each poller reports its walks, the group consumer its membership */
    liveness?: Liveness;
  } & (
    | { /** the role's clients: the runtime closes them after close() */ clients: ClientFactory }
    | {
        /** started by itself (a test): clients of its own, closed by close() */
        infra: InfraOptions;
        /** where TRIBUTARY_INSTANCE_ID is read (common/instance.ts); the process environment by default */
        env?: NodeJS.ProcessEnv;
      }
  ),
): Promise<RunningPollers> {
  const { logger } = deps;
  const { clients, own } = componentClients(deps, 'pollers', logger);
  try {
    return await runPollers({ ...deps, clients }, () => own?.closeAll());
  } catch (err) {
    await own?.closeAll();
    throw err;
  }
}

async function runPollers(
  deps: {
    options: PollersOptions;
    logger: Logger;
    onExchange?: (exchange: SourceExchange) => void;
    liveness?: Liveness;
    clients: ClientFactory;
  },
  closeOwnClients: () => Promise<void> | undefined,
): Promise<RunningPollers> {
  const { options, logger, clients } = deps;
  const instance = clients.instance;
  const kafka = clients.kafka();
  const registry = clients.registry();
  const roleMetrics = createRoleMetrics('pollers');
  const metrics = createPollerMetrics(roleMetrics);

  const admin = await clients.admin();
  await assertStatePartitions(admin, options.topics.state);

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
    // A fenced predecessor's open transaction holds readers back until it is aborted or times out.
    timeoutMs: options.transactionTimeoutMs + 60_000,
    overlapMs: options.overlapMs,
  });
  const limits = createTopicLimits({ kafka });
  const walks = createWalkRecorder({
    kafka,
    topic: options.topics.walks,
    logger,
    metrics: roleMetrics,
    timeoutMs: options.transactionTimeoutMs,
  });

  await clients.publishMetrics({
    topic: options.topics.metrics,
    metrics: [roleMetrics],
    onError: (err) => logger.warn({ err: (err as Error).message }, 'metrics snapshot not published'),
  });

  const running = new Map<ApiName, Poller>();
  /** APIs whose producer was fenced while assigned here: their probes stay (stalled) until resolved */
  const fenced = new Map<ApiName, Probe | undefined>();
  let closing = false;

  function startPoller(name: ApiName): void {
    const api = APIS[name];
    const topics = options.topics[name];
    const probe = deps.liveness?.probe(`poller ${name}`, 'poller');
    const poller = createPoller({
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
      probe,
      walks,
      onFenced: (err) => {
        if (running.get(name) === poller) running.delete(name);
        fenced.set(name, probe);
        void explainFence(name, err);
      },
      transactionalId: transactionalId(options, name),
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
    running.set(name, poller);
    logger.info({ api: name }, 'polling this API (assigned by the pollers group)');
  }

  async function stopPoller(name: ApiName, why: string): Promise<void> {
    const poller = running.get(name);
    running.delete(name);
    if (poller) {
      await poller.close();
      logger.info({ api: name, why }, 'stopped polling this API');
    }
    // Gauges say what this process does now; the API's new owner reports its own.
    for (const g of [metrics.healthy, metrics.behindSeconds, metrics.lastSuccess]) g.remove({ api: name });
  }

  /**
   * A fence while the group still had the API here: either the group moved it and this process
   * has not heard yet (the next join says so), or a producer outside the group writes with the
   * API's transactional id. The group's record tells which; the poller stays stopped either way.
   */
  async function explainFence(name: ApiName, err: unknown): Promise<void> {
    const id = transactionalId(options, name);
    let owner: Awaited<ReturnType<typeof ownerOf>>;
    try {
      owner = await ownerOf(admin, options.groupId, options.topics.state, name);
    } catch (e) {
      logger.warn({ api: name, err: describeError(e) }, 'could not ask the pollers group who owns the API');
    }
    const fields = {
      api: name,
      instance,
      transactionalId: id,
      group: options.groupId,
      err: describeError(err),
    };
    if (owner === undefined) {
      logger.warn(
        fields,
        `fenced while the pollers group rebalances: another instance takes ${name} over; this one stops polling it`,
      );
    } else if (owner.memberId !== currentMember) {
      const who = `${owner.clientId} on ${owner.host}`;
      logger.warn(
        { ...fields, owner: who },
        `another instance took ${name} over (${who}): this one stops polling it`,
      );
    } else {
      logger.error(
        fields,
        `another producer with transactional id ${id} took ${name} over while the pollers group ${options.groupId} assigns it to this instance (${instance}): a process outside the group (an older pollers version, or a second pipeline with the same TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX) polls it. This instance stops polling ${name} and reports itself stalled until the group assigns it again; stop the other writer`,
      );
    }
  }

  let currentMember: string | undefined;
  let queue: Promise<void> = Promise.resolve();
  /** Applies an assignment (in order): stop what was taken away, start what was given. */
  function reconcile(assigned: readonly ApiName[], why: string): void {
    queue = queue
      .then(async () => {
        const want = new Set(closing ? [] : assigned.filter((a) => options.pollers.includes(a)));
        for (const name of [...running.keys()]) if (!want.has(name)) await stopPoller(name, why);
        for (const [name, probe] of [...fenced]) {
          // A new assignment settles a fence: taken away (a handover) or given again (start over).
          fenced.delete(name);
          probe?.remove();
          if (!want.has(name))
            logger.info({ api: name }, 'the fenced API went to another instance: handover complete');
        }
        for (const name of want) if (!running.has(name)) startPoller(name);
      })
      .catch((err) =>
        logger.error({ err: describeError(err) }, 'applying the pollers group assignment failed'),
      );
  }

  const ownership = createOwnership({
    kafka,
    groupId: options.groupId,
    topic: options.topics.state,
    eligible: options.pollers,
    running: () => [...running.keys()],
    instance,
    sessionTimeoutMs: options.sessionTimeoutMs,
    logger,
    probe: deps.liveness?.probe(`group ${options.groupId} (poller ownership)`),
    onAssignment: (apis, memberId) => {
      currentMember = memberId;
      reconcile(apis, 'the pollers group gave it to another instance');
    },
    // The pollers keep running while the consumer rejoins: stopping them would only delay the
    // recovery (a poller stuck on a Kafka outage closes slowly), and should the group give an API
    // to another process meanwhile, that owner's producer fences this one, which then stops.
    onLost: (reason) => {
      currentMember = undefined;
      logger.warn({ group: options.groupId, reason }, 'out of the pollers group until its consumer rejoins');
    },
  });
  try {
    await ownership.start();
  } catch (err) {
    await walks.close(); // the clients (admin, metrics) are closed by the caller
    throw err;
  }
  logger.info(
    { may: options.pollers, group: options.groupId, instance, source: options.sourceUrl },
    'pollers started; the group assigns the APIs',
  );

  let closed: Promise<void> | undefined;
  return {
    pollers: () => [...running.values()],
    metrics: roleMetrics,
    close() {
      closed ??= (async () => {
        // Pages in flight first: leaving the group first would let the next owner fence them.
        closing = true;
        reconcile([], 'the process is stopping');
        await queue;
        await ownership.close();
        await walks.close();
        // the admin and the metrics publisher are the factory's: closed after this (a last snapshot)
        await closeOwnClients();
        logger.info('pollers stopped');
      })();
      return closed;
    },
  };
}

function countExchange(metrics: PollerMetrics, e: SourceExchange): void {
  metrics.requests.inc({ api: e.api, status: e.status === undefined ? 'none' : String(e.status) });
  if (e.status === 429) metrics.rateLimited.inc({ api: e.api });
}
