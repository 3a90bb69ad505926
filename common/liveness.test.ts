import { describe, expect, it } from 'vitest';
import { ROLE_METRICS, sample } from '../contracts/metrics/index.ts';
import { createLiveness, registerLivenessMetrics } from './liveness.ts';
import { createRoleMetrics } from './metrics.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('liveness', () => {
  it('is stalled when input waits and nothing is committed for the limit, and recovers on progress', () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 60_000, now: c.now });
    const probe = liveness.probe('group g (t)');
    probe.joined();
    probe.progressed();
    c.advance(10_000);
    probe.waiting('t/0', 1000);
    probe.waiting('t/1', 234);
    c.advance(59_999);
    expect(liveness.status()).toMatchObject({ stalled: false, stuckForMs: 59_999 });
    probe.failed(new Error('connect ECONNREFUSED\n 127.0.0.1:15432'));
    c.advance(1_001);
    expect(liveness.status()).toMatchObject({
      stalled: true,
      reason:
        'group g (t): no batch committed for 61 s with 1,234 messages waiting; last error: connect ECONNREFUSED 127.0.0.1:15432',
    });
    probe.progressed();
    expect(liveness.status()).toMatchObject({ stalled: false, stuckForMs: 0 });
  });

  it('counts from the later of the last commit and the moment input started waiting', () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 60_000, now: c.now });
    const probe = liveness.probe('p');
    probe.joined();
    probe.progressed();
    c.advance(3_600_000); // idle for an hour: never stalled
    expect(liveness.status().stalled).toBe(false);
    probe.waiting('t/0', 5);
    c.advance(30_000);
    expect(liveness.status()).toMatchObject({ stalled: false, stuckForMs: 30_000 });
    probe.waiting('t/0', 0); // caught up
    c.advance(100_000);
    expect(liveness.status()).toMatchObject({ stalled: false, stuckForMs: 0 });
  });

  it('is stalled when the consumer stays out of its group, from the first time it left', () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 5_000, now: c.now });
    const probe = liveness.probe('group g');
    c.advance(4_000);
    expect(liveness.status().stalled).toBe(false); // not joined yet, within the limit
    probe.joined();
    c.advance(10_000);
    probe.left('crashed: KafkaJSNonRetriableError');
    c.advance(3_000);
    probe.left('restarting'); // the clock keeps running
    c.advance(2_000);
    expect(liveness.status()).toMatchObject({
      stalled: true,
      stuckForMs: 5_000,
      reason: 'group g: not in its consumer group for 5 s (restarting)',
    });
    probe.joined();
    expect(liveness.status().stalled).toBe(false);
  });

  it('forgets partitions lost in a rebalance and closed probes', () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 1_000, now: c.now });
    const probe = liveness.probe('g');
    probe.joined();
    probe.waiting('t/0', 3);
    probe.waiting('t/1', 4);
    probe.retain(new Set(['t/1']));
    expect(liveness.status().probes[0]?.waiting).toBe(4);
    probe.retain(new Set());
    c.advance(5_000);
    expect(liveness.status().stalled).toBe(false);
    probe.waiting('t/0', 3);
    c.advance(5_000);
    expect(liveness.status().stalled).toBe(true);
    probe.remove();
    expect(liveness.status()).toEqual({ stalled: false, stuckForMs: 0, reason: undefined, probes: [] });
  });

  it('describes a poller whose walks fail', () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 60_000, now: c.now });
    const probe = liveness.probe('poller workspaces', 'poller');
    probe.waiting('walk', 1);
    probe.failed(new Error('source unavailable: HTTP 503'));
    c.advance(61_000);
    expect(liveness.status().reason).toBe(
      'poller workspaces: no page committed for 61 s while a walk is due; last error: source unavailable: HTTP 503',
    );
    expect(liveness.status().probes[0]?.inGroup).toBeNull();
  });

  it('publishes the verdict as a gauge and the reason as an info metric', async () => {
    const c = clock();
    const liveness = createLiveness({ stallAfterMs: 1_000, now: c.now });
    const metrics = createRoleMetrics('bronze');
    registerLivenessMetrics(metrics, liveness);
    registerLivenessMetrics(metrics, liveness); // a second call changes nothing
    const probe = liveness.probe('group "g"');
    probe.joined();
    expect((await metrics.snapshot()).gauges).toEqual([sample(ROLE_METRICS.stalled, 0)]);
    probe.waiting('t/0', 2);
    c.advance(2_000);
    expect((await metrics.snapshot()).gauges).toEqual([
      sample(ROLE_METRICS.stalled, 1),
      sample(ROLE_METRICS.stallInfo, 1, {
        reason: "group 'g': no batch committed for 2 s with 2 messages waiting",
      }),
    ]);
  });
});
