import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import { pollersOptions, transactionalId } from './options.ts';

describe('pollers options', () => {
  it('has the topology’s default names (contracts/topology.ts)', () => {
    const o = pollersOptions({});
    expect(o).toMatchObject({
      sourceUrl: 'http://127.0.0.1:4010',
      pollers: ['workspaces', 'enrichment-jobs'],
      intervalMs: 1000,
      pageSize: 100,
      overlapMs: 2000,
      topics: {
        // the pollers' dead letters are API entries (JSON): dlq.source.*, not bronze's dlq.raw.*
        workspaces: { raw: 'raw.workspaces', dlq: 'dlq.source.workspaces' },
        'enrichment-jobs': { raw: 'raw.enrichment-jobs', dlq: 'dlq.source.enrichment-jobs' },
        state: '_tributary.poller-state',
        metrics: '_tributary.metrics',
      },
    });
    expect(transactionalId(o, 'workspaces')).toBe('tributary.poller.workspaces');
    // the group that gives each API to one process: derived from the same prefix, so two pollers
    // processes that share transactional ids always share the group too
    expect(o.groupId).toBe('tributary.poller.owners');
    expect(pollersOptions({ TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX: 'x.p' }).groupId).toBe('x.p.owners');
  });

  it('reads the environment and names the field that is wrong', () => {
    const o = pollersOptions({
      TRIBUTARY_POLLERS: 'enrichment-jobs',
      TRIBUTARY_POLL_PAGE_SIZE: '5',
      TRIBUTARY_SOURCE_URL: 'http://src:1/',
    });
    expect(o).toMatchObject({ pollers: ['enrichment-jobs'], pageSize: 5, sourceUrl: 'http://src:1' });
    for (const [field, value] of [
      ['TRIBUTARY_POLLERS', 'workspaces,users'],
      ['TRIBUTARY_POLL_PAGE_SIZE', '501'],
      ['TRIBUTARY_SOURCE_URL', 'not a url'],
    ] as const) {
      expect(() => pollersOptions({ [field]: value })).toThrow(ConfigError);
      expect(() => pollersOptions({ [field]: value })).toThrow(field);
    }
  });
});
