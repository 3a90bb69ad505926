import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { GroupLag, LatestWalk, LiveUpdate } from '../events.ts';
import { createAlertEngine } from './engine.ts';
import { type AlertView, RULE_KINDS } from './kinds.ts';
import type { Notifier } from './notify.ts';
import { DEFAULT_RULES } from './rules.ts';
import type { AlertItem } from './schemas.ts';

const logger = pino({ level: 'silent' });

function update(at: number, lag: GroupLag[], over: Partial<LiveUpdate> = {}): LiveUpdate {
  return {
    at,
    stages: [],
    lag,
    pollers: [],
    deadLetters: [],
    unresolvedJobs: null,
    kpis: null,
    recentJobs: [],
    replays: [],
    sources: {
      kafka: { ok: true },
      postgres: { ok: true },
      metrics: { ok: true, instances: 1, lastSnapshotAt: at },
    },
    ...over,
  };
}

function walk(api: string, unreconciledWalks: number): LatestWalk {
  return {
    walkId: `${api}-1`,
    api,
    rawTopic: `raw.${api}`,
    outcome: 'complete',
    startedAt: 0,
    endedAt: 1,
    pages: 1,
    served: 10,
    duplicates: 0,
    published: 10,
    pollerDeadLetters: 0,
    rawOffsets: [],
    status: unreconciledWalks > 0 ? 'unreconciled' : 'reconciled',
    inBronze: 10,
    deadLetters: 0,
    missing: 0,
    goldRows: null,
    checkedAt: 1,
    unreconciledWalks,
  };
}

function view(at: number, over: Partial<AlertView> = {}): AlertView {
  return { now: at, update: update(at, []), deadLettersPerMinute: [], roles: [], freshness: null, ...over };
}

const group = (seconds: number): GroupLag => ({
  group: 'tributary.gold-postgres',
  topics: ['gold'],
  messages: seconds * 10,
  seconds,
  secondsAtLeast: false,
});

function fakeNotifier(): Notifier & { sent: AlertItem[] } {
  const sent: AlertItem[] = [];
  return { sent, send: (a) => sent.push(a), status: () => [], close: async () => {} };
}

describe('alert engine', () => {
  it('sends a firing and its resolution once each, however often it is evaluated, and keeps the history', () => {
    const notifier = fakeNotifier();
    const engine = createAlertEngine({
      config: {
        source: 'test',
        rules: [{ name: 'lag', kind: 'consumer-lag', above: 60, for: 10 }],
        webhooks: [],
      },
      notifier,
      logger,
    });
    const snapshots: string[] = [];
    engine.subscribe((s) => snapshots.push(s.active.map((a) => a.state).join(',') || 'none'));
    // one tick per second on a fake clock: 120 s behind for 30 s, then caught up for 30 s
    for (let t = 0; t < 60; t++) {
      const at = 1_700_000_000_000 + t * 1000;
      engine.evaluate(view(at, { update: update(at, [group(t < 30 ? 120 : 0)]) }));
    }
    expect(notifier.sent.map((a) => [a.state, a.firedAt, a.resolvedAt])).toEqual([
      ['firing', '2023-11-14T22:13:30.000Z', null],
      ['resolved', '2023-11-14T22:13:30.000Z', '2023-11-14T22:13:50.000Z'],
    ]);
    expect(snapshots).toEqual(['pending', 'firing', 'none']);
    const s = engine.snapshot();
    expect(s.active).toEqual([]);
    expect(s.history).toEqual([
      expect.objectContaining({
        state: 'resolved',
        subject: 'tributary.gold-postgres',
        summary: expect.stringMatching(/0 s behind/),
      }),
    ]);
    expect(s.rules).toEqual([
      {
        name: 'lag',
        kind: 'consumer-lag',
        description: RULE_KINDS['consumer-lag']!.description,
        above: 60,
        unit: 's',
        for: 10,
      },
    ]);
    // a lag that keeps growing is pushed each time its summary changes (the banner shows the latest)
    const before = snapshots.length;
    for (let t = 0; t < 3; t++)
      engine.evaluate(view(2e12 + t * 1000, { update: update(2e12 + t * 1000, [group(100 + t)]) }));
    expect(snapshots.length - before).toBe(3);
  });

  it('evaluates every default rule kind from one view; no data keeps a firing alert firing', () => {
    const notifier = fakeNotifier();
    const rules = DEFAULT_RULES.map((r) => ({ ...r, for: 0 }));
    const engine = createAlertEngine({
      config: { source: 'defaults', rules, webhooks: [] },
      notifier,
      logger,
    });
    const at = 1_700_000_000_000;
    engine.evaluate(
      view(at, {
        update: update(at, [group(400)], {
          pollers: [
            {
              api: 'jobs',
              healthy: false,
              lagSeconds: null,
              lastSuccessAt: at - 90_000,
              requestsPerSec: null,
              http429Total: 0,
              http429LastMinute: 0,
              retriesTotal: 0,
              retriesLastMinute: 0,
              dlqTotal: 0,
            },
          ],
          walks: [walk('jobs', 2), walk('workspaces', 0)],
        }),
        deadLettersPerMinute: [{ topic: 'dlq.raw.jobs', perMinute: 25 }],
        roles: [
          {
            role: 'processor',
            freshInstances: 1,
            lastReceivedAt: at,
            stalled: [{ instance: 'p@1', reason: 'fenced' }],
          },
          { role: 'bronze', freshInstances: 0, lastReceivedAt: at - 40_000, stalled: [] },
          { role: 'gold-mongo', freshInstances: 1, lastReceivedAt: at, stalled: [] },
        ],
        freshness: { seconds: 900, rows: 12 },
      }),
    );
    expect(notifier.sent.map((a) => `${a.rule} ${a.subject}: ${a.summary}`)).toEqual([
      'consumer-lag tributary.gold-postgres: group tributary.gold-postgres is 400 s behind (4,000 messages)',
      'poller-failing jobs: poller jobs is failing; last success 90 s ago',
      'dead-letters dlq.raw.jobs: 25 dead letters in the last minute on dlq.raw.jobs',
      'gold-freshness : gold rows written in the last minute are up to 900 s behind their source change (12 rows)',
      'role-not-ready processor: processor is stalled: p@1: fenced',
      'role-not-ready bronze: no metrics from bronze for 40 s',
      'walk-unreconciled jobs: 2 walk(s) of jobs do not reconcile (tributary status lists them)',
    ]);
    // Kafka unreachable: lag and dead letters have no data, and stay firing; no walk view (the
    // reconciler is not running) keeps the walk alert firing too; the rest resolves
    const later = at + 1000;
    engine.evaluate(
      view(later, {
        update: update(later, [], {
          sources: { ...update(later, []).sources, kafka: { ok: false, error: 'down' } },
        }),
        freshness: { seconds: null, rows: 0 },
      }),
    );
    expect(engine.snapshot().active.map((a) => a.rule)).toEqual([
      'consumer-lag',
      'dead-letters',
      'walk-unreconciled',
    ]);
    expect(notifier.sent.slice(7).map((a) => `${a.state} ${a.rule} ${a.subject}`)).toEqual([
      'resolved poller-failing jobs',
      'resolved gold-freshness ',
      'resolved role-not-ready processor',
      'resolved role-not-ready bronze',
    ]);
  });

  it('treats a signal that throws as no data for its rule only', () => {
    const notifier = fakeNotifier();
    const engine = createAlertEngine({
      config: {
        source: 'test',
        rules: [
          { name: 'lag', kind: 'consumer-lag', above: 1, for: 0 },
          { name: 'fresh', kind: 'freshness', above: 1, for: 0 },
        ],
        webhooks: [],
      },
      notifier,
      logger,
    });
    const broken = { ...view(0), update: undefined } as unknown as AlertView;
    expect(() => engine.evaluate({ ...broken, freshness: { seconds: 5, rows: 1 } })).not.toThrow();
    expect(notifier.sent.map((a) => a.rule)).toEqual(['fresh']);
  });
});
