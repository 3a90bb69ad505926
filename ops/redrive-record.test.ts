import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_STAGES, deadLetter } from '../contracts/dead-letter.ts';
import { HEADERS } from '../contracts/headers.ts';
import { job } from '../tests/support/fixtures.ts';
import { headerStrings } from './decode.ts';
import { decideRedrive } from './redrive-record.ts';

const ctx = {
  dlqTopic: 'dlq.raw.workspaces',
  rawTopics: { workspaces: 'raw.workspaces', 'enrichment-jobs': 'raw.enrichment-jobs' },
};
const apiWorkspace = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  name: 'Acme',
  plan: 'pro',
  segment: 'smb',
  country: 'DE',
  owner_email: 'o@example.com',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-02T00:00:00.000Z',
  extra_field_the_api_added: true,
};
const msg = (value: Buffer | null, headers: Record<string, string>, key: string | null = 'k') => ({
  key: key === null ? null : Buffer.from(key),
  value,
  headers,
  offset: '7',
});

/** The headers of a letter as the current writers make it (contracts/dead-letter.ts). */
const letterHeaders = (
  headers: Record<string, string>,
  from?: { topic: string; partition: number; offset: string },
  stage: (typeof DEAD_LETTER_STAGES)[keyof typeof DEAD_LETTER_STAGES] = DEAD_LETTER_STAGES.refused,
) =>
  headerStrings(
    deadLetter({ message: { key: null, value: null, headers }, from, reason: 'r', stage, writer: 'w' })
      .headers,
  );

describe('decideRedrive', () => {
  const pollerLineage = { [HEADERS.source]: 'workspaces', [HEADERS.requestId]: 'req-1' };
  it.each([
    ['written today', letterHeaders(pollerLineage, undefined, DEAD_LETTER_STAGES.polled)],
    [
      'written before the Connect names',
      { ...pollerLineage, 'tributary-dlq-reason': 'plan: "platinum" is not a valid enum' },
    ],
  ])(
    'maps a poller dead letter (API JSON, %s) to an Avro record for its raw topic, keeping the lineage headers',
    (_, headers) => {
      const d = decideRedrive(ctx, 0, msg(Buffer.from(JSON.stringify(apiWorkspace)), headers));
      expect(d).toEqual({
        action: 'encode',
        topic: 'raw.workspaces',
        key: apiWorkspace.id,
        schema: 'workspace',
        record: {
          id: apiWorkspace.id,
          name: 'Acme',
          plan: 'pro',
          segment: 'smb',
          country: 'DE',
          owner_email: 'o@example.com',
          created_at: Date.UTC(2026, 0, 1),
          updated_at: Date.UTC(2026, 0, 2),
        },
        headers: {
          'tributary-source': 'workspaces',
          'tributary-request-id': 'req-1',
          'tributary-redriven-from': 'dlq.raw.workspaces/0/7',
        },
      });
    },
  );

  it('re-encodes the JSON rule breakers of older processor letters for the source topic, keyed by workspace', () => {
    const j = job();
    const d = decideRedrive(
      ctx,
      0,
      msg(Buffer.from(JSON.stringify(j)), {
        'tributary-dlq-source': 'raw.enrichment-jobs/1/40',
        'tributary-dlq-reason': 'status moved backward',
      }),
    );
    expect(d).toMatchObject({
      action: 'encode',
      topic: 'raw.enrichment-jobs',
      key: j.workspace_id,
      record: j,
    });
  });

  it('leaves records that are still invalid, or whose origin is unknown', () => {
    const bad = { ...apiWorkspace, plan: 'platinum' };
    expect(
      decideRedrive(ctx, 0, msg(Buffer.from(JSON.stringify(bad)), { 'tributary-source': 'workspaces' })),
    ).toEqual({
      action: 'leave',
      topic: 'raw.workspaces',
      reasons: ['plan: "platinum" is not a valid enum value (free, starter, pro, enterprise)'],
    });
    expect(decideRedrive(ctx, 0, msg(Buffer.from('{}'), {}))).toMatchObject({ action: 'leave', topic: null });
    expect(decideRedrive(ctx, 0, msg(null, { 'tributary-dlq-source': 'raw.workspaces/0/1' }))).toMatchObject({
      action: 'leave',
      reasons: ['the value is null (a tombstone)'],
    });
  });

  it.each([
    ['written today', letterHeaders({}, { topic: 'raw.workspaces', partition: 0, offset: '1' })],
    [
      'written before the Connect names',
      { 'tributary-dlq-source': 'raw.workspaces/0/1', 'tributary-dlq-group': 'g' },
    ],
  ])('re-injects an Avro letter (%s) unchanged into the topic it was read from', (_, headers) => {
    const avro = Buffer.from([0, 0, 0, 0, 5, 2, 4]);
    expect(decideRedrive(ctx, 0, msg(avro, headers))).toEqual({
      action: 'reinject',
      topic: 'raw.workspaces',
      key: Buffer.from('k'),
      value: avro,
      headers: { 'tributary-redriven-from': 'dlq.raw.workspaces/0/7' },
    });
  });

  it('re-injects a processor rule breaker (its Avro bytes) into its raw topic with its own key and headers', () => {
    const avro = Buffer.from([0, 0, 0, 0, 6, 2, 4]);
    const headers = letterHeaders(
      { [HEADERS.requestId]: 'req-9' },
      { topic: 'raw.enrichment-jobs', partition: 1, offset: '40' },
    );
    expect(decideRedrive(ctx, 3, msg(avro, headers, 'ws-1'))).toEqual({
      action: 'reinject',
      topic: 'raw.enrichment-jobs',
      key: Buffer.from('ws-1'),
      value: avro,
      headers: { [HEADERS.requestId]: 'req-9', [HEADERS.redrivenFrom]: 'dlq.raw.workspaces/3/7' },
    });
  });

  it('re-injects anything else bound for a topic it has no schema for unchanged', () => {
    const garbage = Buffer.from('not avro');
    expect(
      decideRedrive(ctx, 0, msg(garbage, { 'tributary-dlq-source': 'raw.workspaces/0/1' })),
    ).toMatchObject({
      action: 'reinject',
      value: garbage,
    });
    expect(
      decideRedrive(
        ctx,
        0,
        msg(Buffer.from('{"a":1}'), { 'tributary-dlq-source': 'gold.enrichment-jobs/0/1' }),
      ),
    ).toMatchObject({ action: 'reinject', topic: 'gold.enrichment-jobs' });
  });
});
