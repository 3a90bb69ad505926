import { describe, expect, it } from 'vitest';
import { METRICS, sample } from '../../contracts/metrics/index.ts';
import type { GroupLag, PollerHealth } from '../events.ts';
import { createMetricsAggregator } from './metrics-aggregator.ts';
import { createOffsetHistory } from './offset-history.ts';
import { type StageInputs, stageStates } from './stages.ts';

function inputs(over: Partial<StageInputs> = {}): StageInputs {
  const metrics = createMetricsAggregator();
  const offsets = createOffsetHistory({ retainMs: 60_000 });
  for (let i = 0; i <= 2; i++) {
    const at = i * 1000;
    metrics.ingest(
      {
        role: 'all',
        instance: 'all@1',
        at,
        counters: [
          sample(METRICS.pollers.published, 10 * i, { api: 'workspaces' }),
          sample(METRICS.bronze.rowsWritten, 10 * i),
          sample(METRICS.processor.goldRecords, 8 * i),
          sample(METRICS.goldSinks.rowsWritten, 8 * i, { sink: 'postgres' }),
          sample(METRICS.goldSinks.rowsWritten, 6 * i, { sink: 'mongo' }),
        ],
        gauges: [],
      },
      at,
    );
    offsets.record(at, [{ topic: 'raw', partition: 0, high: 10 * i, low: 0 }]);
  }
  return {
    now: 2000,
    metrics,
    offsets,
    kafkaOk: true,
    rawTopics: ['raw'],
    goldTopic: 'gold',
    lag: [],
    pollers: [],
    unresolvedJobs: 0,
    ...over,
  };
}

const lag = (over: Partial<GroupLag>): GroupLag => ({
  group: 'g',
  topics: ['raw'],
  messages: 0,
  seconds: 0,
  secondsAtLeast: false,
  ...over,
});
const poller = (over: Partial<PollerHealth>): PollerHealth => ({
  api: 'workspaces',
  healthy: true,
  lagSeconds: 1,
  lastSuccessAt: 0,
  requestsPerSec: 1,
  http429Total: 0,
  http429LastMinute: 0,
  retriesTotal: 0,
  retriesLastMinute: 0,
  dlqTotal: 0,
  ...over,
});
const byStage = (i: StageInputs) => Object.fromEntries(stageStates(i).map((s) => [s.stage, s]));

describe('pipeline stage states', () => {
  it('is all green with rates when every role reports and nothing lags', () => {
    const s = byStage(inputs());
    expect(Object.values(s).map((x) => [x.stage, x.ratePerSec, x.status])).toEqual([
      ['polled', 10, 'green'],
      ['published', 10, 'green'],
      ['bronze-written', 10, 'green'],
      ['joined', 8, 'green'],
      ['gold-written', 6, 'green'], // the slowest sink
    ]);
  });

  it('is stale, without a rate, when a role stopped sending metrics, and red when Kafka is unreachable', () => {
    const silent = inputs({ now: 60_000 });
    expect(byStage(silent).polled).toMatchObject({
      status: 'stale',
      reason: 'no poller metrics for 58 s',
      ratePerSec: null,
    });
    expect(byStage(silent)['gold-written']).toMatchObject({ status: 'stale', ratePerSec: null });
    expect(byStage(inputs({ kafkaOk: false })).published).toMatchObject({
      status: 'red',
      reason: 'Kafka is unreachable',
    });
    expect(byStage(inputs({ rawTopics: ['raw', 'gone'] })).published).toMatchObject({ status: 'red' });
  });

  it('applies the lag thresholds to the stages reading the lagging topic', () => {
    expect(byStage(inputs({ lag: [lag({ messages: 1001 })] }))['bronze-written']?.status).toBe('amber');
    expect(byStage(inputs({ lag: [lag({ seconds: 31 })] })).joined?.status).toBe('amber');
    expect(byStage(inputs({ lag: [lag({ seconds: 121 })] })).joined?.status).toBe('red');
    expect(byStage(inputs({ lag: [lag({ messages: 10_001 })] }))['gold-written']?.status).toBe('green');
    expect(
      byStage(inputs({ lag: [lag({ topics: ['gold'], messages: 10_001 })] }))['gold-written']?.status,
    ).toBe('red');
  });

  it('flags pollers that are down, behind or throttled, and jobs waiting for workspaces', () => {
    expect(byStage(inputs({ pollers: [poller({ healthy: false })] })).polled?.status).toBe('red');
    expect(byStage(inputs({ pollers: [poller({ lagSeconds: 61 })] })).polled).toMatchObject({
      status: 'amber',
      reason: 'workspaces is 61 s behind the source',
    });
    expect(byStage(inputs({ pollers: [poller({ http429LastMinute: 2 })] })).polled?.status).toBe('amber');
    expect(byStage(inputs({ unresolvedJobs: 101 })).joined).toMatchObject({ status: 'amber' });
  });

  it('is red, with the reason of the role, when a role says it is stalled', () => {
    const i = inputs();
    const snapshot = (role: string, stalled: number, reason?: string) => ({
      role,
      instance: `${role}@h:1`,
      at: 2000,
      counters: [],
      gauges: [
        sample(METRICS.role.stalled, stalled),
        ...(reason ? [sample(METRICS.role.stallInfo, 1, { reason })] : []),
      ],
    });
    i.metrics.ingest(snapshot('processor', 0), 2000);
    i.metrics.ingest(snapshot('gold-mongo', 0), 2000);
    i.metrics.ingest(snapshot('gold-postgres', 1, 'group g: no batch committed for 61 s'), 2000);
    const s = byStage(i);
    expect(s.joined).toMatchObject({ status: 'green' });
    expect(s['gold-written']).toMatchObject({
      status: 'red',
      reason: 'gold-postgres stalled: group g: no batch committed for 61 s',
    });
  });

  it('is stale when one role of a stage went quiet while the other reports', () => {
    const i = inputs({ now: 20_000 });
    const snapshot = (role: string, at: number) => ({
      role,
      instance: `${role}@h:1`,
      at,
      counters: [sample(METRICS.goldSinks.rowsWritten, at, { sink: 'x' })],
      gauges: [sample(METRICS.role.stalled, 0)],
    });
    i.metrics.ingest(snapshot('gold-mongo', 1000), 1000);
    i.metrics.ingest(snapshot('gold-postgres', 19_000), 19_000);
    expect(byStage(i)['gold-written']).toMatchObject({
      status: 'stale',
      reason: 'no gold-mongo metrics for 19 s',
      ratePerSec: null,
    });
  });
});
