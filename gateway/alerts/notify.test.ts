import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNotifier, slackPayload } from './notify.ts';
import type { AlertItem } from './schemas.ts';

const logger = pino({ level: 'silent' });
const FAST = { retries: 3, minDelayMs: 1, maxDelayMs: 5 };

const alert = (state: AlertItem['state']): AlertItem => ({
  id: 'lag/g@2026-01-01T00:00:00.000Z',
  fingerprint: 'lag/g',
  state,
  rule: 'lag',
  kind: 'consumer-lag',
  subject: 'g',
  summary:
    state === 'firing' ? 'group g is 400 s behind (10 messages)' : 'group g is 0 s behind (0 messages)',
  value: 400,
  threshold: 300,
  forSeconds: 60,
  since: '2026-01-01T00:00:00.000Z',
  firedAt: '2026-01-01T00:01:00.000Z',
  resolvedAt: state === 'resolved' ? '2026-01-01T00:05:00.000Z' : null,
});

/** A fake `fetch` answering with the given statuses in turn, recording each call's body. */
function fakeFetch(statuses: number[]) {
  const calls: Array<{ url: string; body: Record<string, unknown> }> = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init.body)) });
    return new Response(null, { status: statuses.shift() ?? 200 });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('webhook notifier', () => {
  it('retries a 5xx and delivers firing before resolved, once each', async () => {
    const calls = fakeFetch([503, 502, 200, 200]);
    const n = createNotifier({
      webhooks: [{ name: 'ops', url: 'http://hooks.test/a', format: 'json', headers: {} }],
      logger,
      retry: FAST,
    });
    n.send(alert('firing'));
    n.send(alert('resolved'));
    await n.close();
    expect(calls.map((c) => c.body.status)).toEqual(['firing', 'firing', 'firing', 'resolved']);
    expect(n.status()).toEqual([{ name: 'ops', format: 'json', delivered: 2, failed: 0, lastError: null }]);
  });

  it('gives up at once on a 4xx, says why, and goes on with the next alert', async () => {
    const calls = fakeFetch([404, 200]);
    const n = createNotifier({
      webhooks: [{ name: 'chat', url: 'http://hooks.test/s', format: 'slack', headers: {} }],
      logger,
      retry: FAST,
    });
    n.send(alert('firing'));
    n.send(alert('resolved'));
    await n.close();
    expect(calls).toHaveLength(2);
    expect(n.status()).toEqual([
      { name: 'chat', format: 'slack', delivered: 1, failed: 1, lastError: 'webhook chat answered HTTP 404' },
    ]);
    expect(calls[1]!.body.text).toBe(
      ':white_check_mark: RESOLVED lag (g): group g is 0 s behind (0 messages)',
    );
  });

  it('writes Slack messages with a text and two blocks', () => {
    expect(slackPayload(alert('firing'), 'http://dash/')).toEqual({
      text: ':rotating_light: FIRING lag (g): group g is 400 s behind (10 messages)',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*:rotating_light: FIRING lag (g)*\ngroup g is 400 s behind (10 messages)',
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'rule `lag` (consumer-lag, above 300 for 60 s) · since 2026-01-01T00:00:00.000Z · <http://dash/|dashboard>',
            },
          ],
        },
      ],
    });
  });
});
