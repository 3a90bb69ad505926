import type { Admin, Kafka } from 'kafkajs';
import { createRoleMetrics, startMetricsReporter } from '../common/metrics.ts';
import { waitFor } from '../common/wait-for.ts';
import { REPLAY_METRICS, REPLAY_ROLE } from '../contracts/metrics/index.ts';
import { createCatchUpWatcher } from './catch-up.ts';
import { describeMembers } from './lag.ts';
import type { ReplayPlan } from './replay.ts';

/**
 * After a replay: follows the group until it has reprocessed up to the end offsets the partitions
 * had when the offsets were moved, and publishes that progress as a MetricsSnapshot of role
 * `replay` to the metrics topic about once a second, so the dashboard shows it live
 * (metrics: REPLAY_METRICS in contracts/metrics/operations.ts, ops/README.md).
 */
export interface ReplayProgress {
  total: number;
  remaining: number;
  members: number;
}

export async function followReplay(
  deps: { kafka: Kafka; admin: Admin },
  plan: ReplayPlan,
  opts: {
    metricsTopic: string;
    timeoutMs: number;
    intervalMs?: number;
    /** called on every check: `members` is 0 while the group is not running again */
    onProgress: (p: ReplayProgress) => void;
    signal?: AbortSignal;
  },
): Promise<ReplayProgress> {
  const intervalMs = opts.intervalMs ?? 1000;
  const labels = { group: plan.group };
  const metrics = createRoleMetrics(REPLAY_ROLE);
  const lag = metrics.gauge(REPLAY_METRICS.lag);
  const total = metrics.gauge(REPLAY_METRICS.total);
  const members = metrics.gauge(REPLAY_METRICS.members);
  total.set(labels, plan.toReprocess);
  lag.set(labels, plan.toReprocess);
  const reporter = await startMetricsReporter({
    kafka: deps.kafka,
    topic: opts.metricsTopic,
    metrics: [metrics],
    intervalMs,
  });
  const watcher = createCatchUpWatcher(
    deps,
    plan.group,
    plan.moves.map((m) => ({ topic: m.topic, partition: m.partition, offset: m.high })),
  );
  const progress: ReplayProgress = { total: plan.toReprocess, remaining: plan.toReprocess, members: 0 };
  try {
    await waitFor(
      async () => {
        const [state, caughtUp] = await Promise.all([
          describeMembers(deps.admin, plan.group),
          watcher.check(),
        ]);
        progress.members = state.members.length;
        progress.remaining = caughtUp.done ? 0 : Math.min(plan.toReprocess, caughtUp.remaining);
        lag.set(labels, progress.remaining);
        members.set(labels, progress.members);
        opts.onProgress({ ...progress });
        return caughtUp.done;
      },
      {
        timeoutMs: opts.timeoutMs,
        intervalMs,
        what: `consumer group ${plan.group} to reprocess ${plan.toReprocess} messages`,
        signal: opts.signal,
      },
    );
  } finally {
    await reporter.stop(); // one last snapshot, with the final lag
  }
  return progress;
}
