import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, ROLE_METRICS, sample } from '../contracts/metrics/index.ts';
import { summarize } from './roles.ts';

const { stalled, stallInfo } = ROLE_METRICS;

describe('role statuses from snapshots', () => {
  it('reads the verdict and reason of structured and older snapshots alike', () => {
    const structured = decodeSnapshot(
      encodeSnapshot({
        role: 'gold-postgres',
        instance: 'gold-postgres@h:1',
        at: 900,
        counters: [],
        gauges: [sample(stalled, 1), sample(stallInfo, 1, { reason: 'no batch committed for 61 s' })],
      }),
    )!;
    const legacy = decodeSnapshot(
      JSON.stringify({
        role: 'bronze',
        instance: 'bronze@h:2',
        at: 900,
        counters: {},
        gauges: { [stalled.name]: 1, [`${stallInfo.name}{reason="Postgres: connection refused"}`]: 1 },
      }),
    )!;
    const quiet = decodeSnapshot(
      encodeSnapshot({
        role: 'processor',
        instance: 'p@h:3',
        at: 0,
        counters: [],
        gauges: [sample(stalled, 0)],
      }),
    )!;
    expect(
      summarize(
        [
          { snapshot: structured, at: 900 },
          { snapshot: legacy, at: 900 },
          { snapshot: quiet, at: 0 },
        ],
        1000,
        500,
      ),
    ).toEqual([
      {
        role: 'bronze',
        instances: 1,
        status: 'stalled',
        reason: 'Postgres: connection refused',
        lastSnapshotSeconds: 0,
      },
      {
        role: 'gold-postgres',
        instances: 1,
        status: 'stalled',
        reason: 'no batch committed for 61 s',
        lastSnapshotSeconds: 0,
      },
      {
        role: 'processor',
        instances: 0,
        status: 'stale',
        reason: 'no metrics for 1 s (stopped, or too stuck to publish)',
        lastSnapshotSeconds: 1,
      },
    ]);
  });
});
