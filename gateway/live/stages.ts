import {
  BRONZE_METRICS,
  type CounterDef,
  GOLD_SINK_METRICS,
  type MetricGroup,
  POLLER_METRICS,
  PROCESSOR_METRICS,
} from '../../contracts/metrics/index.ts';
import type { GroupLag, PollerHealth, StageName, StageState, StageStatus } from '../events.ts';
import type { MetricsAggregator } from './metrics-aggregator.ts';
import type { OffsetHistory } from './offset-history.ts';

/**
 * The pipeline strip: each stage's rate and a verdict. Red means the stage is not working (a role of
 * it says it is stalled — common/liveness.ts —, Kafka is unreachable, its consumers are far
 * behind); amber means it works but needs a look (behind, throttled, dead-lettering); stale means
 * no metrics of its role arrived lately, so nothing is known: never green with old numbers, and
 * no rate. The thresholds are documented in dashboard/README.md; change them here and there together.
 */
export const THRESHOLDS = {
  lagAmberMessages: 1_000,
  lagRedMessages: 10_000,
  lagAmberSeconds: 30,
  lagRedSeconds: 120,
  pollerBehindAmberSeconds: 60,
  unresolvedAmberJobs: 100,
  /** DLQ growth and HTTP 429s are looked at over this window */
  recentWindowMs: 60_000,
  rateWindowMs: 5_000,
} as const;

export interface StageInputs {
  now: number;
  metrics: MetricsAggregator;
  offsets: OffsetHistory;
  kafkaOk: boolean;
  rawTopics: string[];
  goldTopic: string;
  lag: GroupLag[];
  pollers: PollerHealth[];
  unresolvedJobs: number | null;
}

/** The roles (the `role` of their metrics snapshots) whose work each stage shows. */
export const STAGE_ROLES = {
  polled: ['pollers'],
  'bronze-written': ['bronze'],
  joined: ['processor'],
  'gold-written': ['gold-postgres', 'gold-mongo'],
} as const;

type Verdict = [StageStatus, string];
const GREEN: Verdict = ['green', ''];

export function stageStates(i: StageInputs): StageState[] {
  const { now, metrics } = i;
  const rate = (metric: CounterDef) => metrics.rate({ metric }, now, THRESHOLDS.rateWindowMs);
  const grew = (metric: CounterDef) => metrics.increase({ metric }, now, THRESHOLDS.recentWindowMs) > 0;
  const ago = (at: number) => `${Math.max(0, Math.round((now - at) / 1000))} s`;
  /** red when a role of the stage says it is stalled; stale when one stopped sending metrics */
  const silent = (group: MetricGroup, label: string, roles: readonly string[]): Verdict | undefined => {
    const views = roles.flatMap((r) => metrics.role(r, now) ?? []);
    const stalled = views.flatMap((v) => v.stalled.map((s) => `${v.role} stalled: ${s.reason}`));
    if (stalled.length > 0) return ['red', stalled.join(' | ')];
    if (!views.some((v) => v.freshInstances > 0) && !metrics.reports(group, now)) {
      const last = Math.max(metrics.lastReportedAt(group) ?? 0, ...views.map((v) => v.lastReceivedAt));
      return ['stale', last > 0 ? `no ${label} metrics for ${ago(last)}` : `no ${label} metrics`];
    }
    const quiet = views.filter((v) => v.freshInstances === 0);
    if (quiet.length > 0) {
      return ['stale', quiet.map((v) => `no ${v.role} metrics for ${ago(v.lastReceivedAt)}`).join('; ')];
    }
    return undefined;
  };
  const rawLag = worstLag(i.lag.filter((g) => g.topics.some((t) => i.rawTopics.includes(t))));
  const goldLag = worstLag(i.lag.filter((g) => g.topics.includes(i.goldTopic)));

  const goldRows = GOLD_SINK_METRICS.rowsWritten;
  const sinks = metrics.labelValues(goldRows, 'sink', now);
  const sinkRates = sinks.map((sink) =>
    metrics.rate({ metric: goldRows, labels: { sink } }, now, THRESHOLDS.rateWindowMs),
  );
  // a record is gold-written once every sink has it: the slowest sink is the stage's rate
  const goldRate = sinkRates.some((r) => r === null)
    ? null
    : sinkRates.length > 0
      ? Math.min(...(sinkRates as number[]))
      : null;

  const verdicts: Record<StageName, [number | null, Verdict]> = {
    polled: [
      rate(POLLER_METRICS.published),
      silent(POLLER_METRICS, 'poller', STAGE_ROLES.polled) ?? pollerVerdict(i.pollers, grew),
    ],
    published: [
      i.offsets.rate(i.rawTopics, now, THRESHOLDS.rateWindowMs),
      !i.kafkaOk
        ? ['red', 'Kafka is unreachable']
        : i.rawTopics.some((t) => i.offsets.latest(t) === undefined)
          ? ['red', `topic missing: ${i.rawTopics.filter((t) => !i.offsets.latest(t)).join(', ')}`]
          : GREEN,
    ],
    'bronze-written': [
      rate(BRONZE_METRICS.rowsWritten),
      silent(BRONZE_METRICS, 'bronze', STAGE_ROLES['bronze-written']) ??
        lagVerdict(rawLag) ??
        (grew(BRONZE_METRICS.deadLettered) ? ['amber', 'records sent to the DLQ in the last minute'] : GREEN),
    ],
    joined: [
      rate(PROCESSOR_METRICS.goldRecords),
      silent(PROCESSOR_METRICS, 'processor', STAGE_ROLES.joined) ??
        lagVerdict(rawLag) ??
        ((i.unresolvedJobs ?? 0) > THRESHOLDS.unresolvedAmberJobs
          ? ['amber', `${i.unresolvedJobs} jobs wait for their workspace`]
          : grew(PROCESSOR_METRICS.deadLettered)
            ? ['amber', 'records sent to the DLQ in the last minute']
            : GREEN),
    ],
    'gold-written': [
      goldRate,
      silent(GOLD_SINK_METRICS, 'gold sink', STAGE_ROLES['gold-written']) ?? lagVerdict(goldLag) ?? GREEN,
    ],
  };
  return (Object.keys(verdicts) as StageName[]).map((stage) => {
    const [ratePerSec, [status, reason]] = verdicts[stage];
    // a stage nothing is known about shows no rate, not the last one it had
    return { stage, ratePerSec: status === 'stale' ? null : ratePerSec, status, reason };
  });
}

function worstLag(groups: GroupLag[]): GroupLag | undefined {
  return groups.reduce<GroupLag | undefined>(
    (worst, g) =>
      !worst || g.seconds > worst.seconds || (g.seconds === worst.seconds && g.messages > worst.messages)
        ? g
        : worst,
    undefined,
  );
}

function lagVerdict(g: GroupLag | undefined): Verdict | undefined {
  if (!g) return undefined;
  const what = `group ${g.group} is ${g.messages} messages / ${g.seconds}${g.secondsAtLeast ? '+' : ''} s behind`;
  if (g.messages > THRESHOLDS.lagRedMessages || g.seconds > THRESHOLDS.lagRedSeconds) return ['red', what];
  if (g.messages > THRESHOLDS.lagAmberMessages || g.seconds > THRESHOLDS.lagAmberSeconds)
    return ['amber', what];
  return undefined;
}

function pollerVerdict(pollers: PollerHealth[], grew: (metric: CounterDef) => boolean): Verdict {
  const down = pollers.filter((p) => p.healthy === false);
  if (down.length > 0) return ['red', `unhealthy: ${down.map((p) => p.api).join(', ')}`];
  const behind = pollers.filter((p) => (p.lagSeconds ?? 0) > THRESHOLDS.pollerBehindAmberSeconds);
  if (behind.length > 0) {
    return [
      'amber',
      behind.map((p) => `${p.api} is ${Math.round(p.lagSeconds!)} s behind the source`).join('; '),
    ];
  }
  const throttled = pollers.filter((p) => p.http429LastMinute > 0);
  if (throttled.length > 0) {
    return [
      'amber',
      throttled.map((p) => `${p.api}: ${p.http429LastMinute} HTTP 429 in the last minute`).join('; '),
    ];
  }
  if (grew(POLLER_METRICS.deadLettered)) return ['amber', 'records sent to the DLQ in the last minute'];
  return GREEN;
}
