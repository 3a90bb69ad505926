import { describe, expect, it } from 'vitest';
import { estimateRecordBytes } from '../common/kafka-limits.ts';
import { readDeadLetter } from '../contracts/dead-letter.ts';
import { HEADERS } from '../contracts/headers.ts';
import { APIS } from './apis.ts';
import { buildPage, type PageContext } from './page.ts';
import { initialCursor } from './state.ts';

const T = Date.parse('2024-05-02T12:00:00.000Z');
const apiWorkspace = (over: Record<string, unknown> = {}) => ({
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  name: 'Acme',
  plan: 'pro',
  segment: 'smb',
  country: 'DE',
  owner_email: 'o@example.com',
  created_at: new Date(T).toISOString(),
  updated_at: new Date(T).toISOString(),
  ...over,
});
const ctx = (dlqBytes: number): PageContext => ({
  api: APIS.workspaces,
  topics: { raw: 'raw', dlq: 'dlq' },
  encode: async (record) => Buffer.from(JSON.stringify(record)),
  overlapMs: 1000,
  maxMessageBytes: (topic) => (topic === 'dlq' ? dlqBytes : 1_048_588),
  writer: 'tributary.poller.workspaces',
});

describe('buildPage', () => {
  it('dead-letters an entry the mapper refuses as the API’s JSON, with lineage and the TASK_POLL context', async () => {
    const entry = apiWorkspace({ plan: 'platinum' });
    const built = await buildPage(
      ctx(1_048_588),
      initialCursor(),
      { data: [entry], nextCursor: null, requestId: 'req-1' },
      T,
    );
    const [dlq] = built.batches;
    expect(dlq!.topic).toBe('dlq');
    const letter = dlq!.messages[0]!;
    expect(letter.key).toBe(entry.id);
    expect(JSON.parse(String(letter.value))).toEqual(entry);
    expect(letter.headers).toMatchObject({ [HEADERS.source]: 'workspaces', [HEADERS.requestId]: 'req-1' });
    expect(readDeadLetter(letter.headers)).toEqual({
      reason: expect.stringMatching(/^plan: "platinum" is not a valid enum value/),
      from: null,
      writer: 'tributary.poller.workspaces',
      stage: 'TASK_POLL',
      errorClass: null,
      truncatedFrom: null,
    });
  });

  it('cuts a letter that would not fit its topic, and says the original size', async () => {
    const entry = apiWorkspace({ plan: 'platinum', name: 'x'.repeat(20_000) });
    const built = await buildPage(
      ctx(8192),
      initialCursor(),
      { data: [entry], nextCursor: null, requestId: 'req-1' },
      T,
    );
    const letter = built.batches[0]!.messages[0]!;
    expect(estimateRecordBytes(letter)).toBeLessThanOrEqual(8192);
    expect(readDeadLetter(letter.headers).truncatedFrom).toBe(JSON.stringify(entry).length);
    expect(readDeadLetter(letter.headers).reason).toMatch(/^plan: /);
    expect(JSON.stringify(entry).startsWith(String(letter.value))).toBe(true);
  });
});
