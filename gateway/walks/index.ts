import type { Admin, Kafka } from 'kafkajs';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { startWalkIngest } from './ingest.ts';
import type { WalksOptions } from './options.ts';
import { listWalks, type WalksQuery } from './query.ts';
import type { LatestWalk, WalkView } from './reconcile.ts';
import { startWalkReconciler, type WalkHealth } from './reconciler.ts';
import { createWalkStore, createWalksPool } from './store.ts';

/**
 * The reconciliation per walk inside the gateway: the ingest (walk summaries and bronze's dead
 * letters → ops.*) and the reconciler loop, with their own small read-write pool (the analytics
 * pool stays read-only). Why the gateway: it is the one role that already watches every group's
 * offsets and the DLQs, serves /metrics where the gauges belong, and is not scaled per partition,
 * so walks are not counted once per bronze instance.
 */
export interface Walks {
  /** the latest walk per API, as of the last pass */
  latest(): LatestWalk[];
  /** per API: unreconciled and pending walks (what `tributary_walks_*` gauges say) */
  health(): WalkHealth[];
  list(q: Omit<WalksQuery, 'rawTopics'>): Promise<WalkView[]>;
  /** one reconciliation pass now */
  reconcile(): Promise<void>;
  close(): Promise<void>;
}

export async function startWalks(deps: {
  kafka: Kafka;
  admin: Admin;
  postgresUrl: string;
  goldTable: string;
  options: WalksOptions;
  metrics: RoleMetrics;
  logger: Logger;
  liveness?: Liveness;
}): Promise<Walks> {
  const { options } = deps;
  const pool = createWalksPool(options.postgresUrl ?? deps.postgresUrl);
  pool.on('error', (err) =>
    deps.logger.warn({ err: err.message }, 'idle Postgres connection (walks) failed'),
  );
  const store = createWalkStore(pool, { goldTable: deps.goldTable });
  const apis = Object.values(options.apis);
  const rawTopics = apis.map((a) => a.rawTopic);
  let ingest: Awaited<ReturnType<typeof startWalkIngest>> | undefined;
  try {
    ingest = await startWalkIngest({
      kafka: deps.kafka,
      store,
      walksTopic: options.topic,
      dlqTopics: [...new Set(apis.map((a) => a.dlqTopic))],
      groupId: options.groupId,
      logger: deps.logger,
      liveness: deps.liveness,
    });
  } catch (err) {
    await pool.end();
    throw err;
  }
  const reconciler = startWalkReconciler({
    store,
    pool,
    admin: deps.admin,
    options,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  let closing: Promise<void> | undefined;
  return {
    latest: () => reconciler.latest(),
    health: () => reconciler.health(),
    list: (q) => listWalks(pool, { ...q, rawTopics }),
    reconcile: () => reconciler.pass(),
    close() {
      closing ??= (async () => {
        await reconciler.stop();
        await ingest?.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
