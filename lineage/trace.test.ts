import { describe, expect, it } from 'vitest';
import type { BronzeVersion } from './stores.ts';
import { assemble } from './trace.ts';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const version = (id: string, updated: number, offset: number, raw: number): BronzeVersion => ({
  id,
  workspaceId: id === 'job' ? 'ws' : null,
  updatedAt: at(updated),
  state: 'queued',
  topic: id === 'job' ? 'raw.jobs' : 'raw.ws',
  partition: 1,
  offset: String(offset),
  kafkaTimestamp: at(raw),
  schemaId: 7,
  source: id === 'job' ? 'enrichment-jobs' : 'workspaces',
  requestId: `req-${offset}`,
  fetchedAt: at(raw - 5),
  ingestedAt: at(raw + 40),
});
const gold = (offset: number, ju: number, wu: number | null, ts: number) => ({
  partition: 2,
  offset: String(offset),
  timestamp: T0 + ts,
  value: {
    job_updated_at: T0 + ju,
    workspace_updated_at: wu === null ? null : T0 + wu,
    processed_at: T0 + ts - 1,
    status: 'queued',
  },
});
const options = {
  goldTable: 'gold.enrichment_jobs',
  mongo: { database: 'tributary', collection: 'enrichment_jobs' },
};

describe('assemble', () => {
  it('attributes each gold record to the version that caused it and times every hop', () => {
    const jobs = [version('job', 0, 10, 100), version('job', 1000, 11, 1100)];
    const workspaces = [version('ws', -500, 3, 50), version('ws', 1500, 4, 1600)];
    const stored = {
      workspaceId: 'ws',
      partition: 2,
      offset: '42',
      writtenAt: at(1700).toISOString(),
      jobUpdatedAt: at(1000).toISOString(),
      workspaceUpdatedAt: at(1500).toISOString(),
      status: 'queued',
      createdAt: null,
    };
    const out = assemble({
      jobs,
      workspaces,
      gold: [gold(40, 0, -500, 150), gold(41, 1000, -500, 1150), gold(42, 1000, 1500, 1650)],
      goldTopic: 'gold.jobs',
      postgres: stored,
      mongo: { ...stored, writtenAt: at(1690).toISOString() },
      options,
    });
    expect(out.otherGold).toEqual([]);
    expect(out.jobVersions.map((v) => v.gold.map((g) => [g.offset, g.trigger]))).toEqual([
      [['40', 'job']],
      [['41', 'job']],
    ]);
    expect(out.workspaceVersions.map((v) => v.gold.map((g) => [g.offset, g.trigger]))).toEqual([
      [],
      [['42', 'workspace']],
    ]);
    const last = out.workspaceVersions[1]!;
    expect(last.hops.map((h) => [h.hop, h.after, h.afterMs])).toEqual([
      ['source', null, null],
      ['raw', 'source', 5],
      ['bronze', 'raw', 40],
      ['gold', 'raw', 50],
      ['postgres', 'gold', 50],
      ['mongo', 'gold', 40],
    ]);
    expect(last.hops[0]!.where).toBe('workspaces request req-4');
    expect(last.gold[0]!.postgres).toEqual({
      table: 'gold.enrichment_jobs',
      writtenAt: at(1700).toISOString(),
    });
  });

  it('keeps a gold record no bronze version explains apart', () => {
    const out = assemble({
      jobs: [version('job', 0, 10, 100)],
      workspaces: [],
      gold: [gold(40, 0, null, 150), gold(41, 999, null, 900)],
      goldTopic: 'gold.jobs',
      postgres: null,
      mongo: null,
      options,
    });
    expect(out.jobVersions[0]!.gold.map((g) => g.offset)).toEqual(['40']);
    expect(out.otherGold.map((g) => g.offset)).toEqual(['41']);
  });
});
