import { describe, expect, it } from 'vitest';
import { estimateRecordBytes, RecordTooLargeError, recordBudget, splitIntoRequests } from './kafka-limits.ts';

const msg = (bytes: number, key = 'k') => ({ key, value: Buffer.alloc(bytes) });

describe('splitIntoRequests', () => {
  it('cuts each topic into requests under its limit, keeping the order of its messages', () => {
    const limit = 10_000;
    const gold = Array.from({ length: 50 }, (_, i) => msg(900, `g${i}`));
    const state = Array.from({ length: 5 }, (_, i) => msg(100, `s${i}`));
    const requests = splitIntoRequests(
      [
        { topic: 'gold', messages: gold },
        { topic: 'state', messages: state },
      ],
      () => limit,
    );
    expect(requests.length).toBeGreaterThan(4);
    for (const r of requests) {
      for (const t of r) {
        const bytes = t.messages.reduce((n, m) => n + estimateRecordBytes(m), 0);
        expect(bytes).toBeLessThanOrEqual(recordBudget(limit));
      }
    }
    const flat = (topic: string) =>
      requests.flatMap((r) =>
        r.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)),
      );
    expect(flat('gold')).toEqual(gold.map((m) => m.key));
    expect(flat('state')).toEqual(state.map((m) => m.key));
  });

  it('sends small batches in one request', () => {
    const requests = splitIntoRequests([{ topic: 't', messages: [msg(10), msg(10)] }], () => 1_048_588);
    expect(requests).toHaveLength(1);
  });

  it('refuses a single record that can never fit, naming the topic', () => {
    expect(() =>
      splitIntoRequests([{ topic: 'raw.x', messages: [msg(2_000_000)] }], () => 1_048_588),
    ).toThrow(RecordTooLargeError);
    expect(() =>
      splitIntoRequests([{ topic: 'raw.x', messages: [msg(2_000_000)] }], () => 1_048_588),
    ).toThrow(/raw\.x/);
  });

  it('counts headers', () => {
    const plain = estimateRecordBytes({ key: 'k', value: 'v' });
    const withHeaders = estimateRecordBytes({
      key: 'k',
      value: 'v',
      headers: { 'a-header': 'x'.repeat(100) },
    });
    expect(withHeaders - plain).toBeGreaterThanOrEqual(108);
  });
});
