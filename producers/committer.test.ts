import { describe, expect, it } from 'vitest';
import { createSerializer, isFencedError, ProducerFencedError } from './committer.ts';

describe('createSerializer', () => {
  it('runs one function at a time, in call order, and goes on after a failure', async () => {
    const serialize = createSerializer();
    const events: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) =>
      serialize(async () => {
        running++;
        expect(running).toBe(1);
        events.push(`start ${name}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});

describe('isFencedError', () => {
  it('recognises the broker saying another producer has the transactional id, however kafkajs wraps it', () => {
    const epoch = Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47 });
    const fencedCode = Object.assign(new Error('Unknown error code 90'), {
      type: 'KAFKAJS_UNKNOWN_ERROR_CODE',
      code: 90,
    });
    const wrapped = Object.assign(new Error('Number of retries exceeded'), { cause: epoch });
    for (const e of [epoch, fencedCode, wrapped, new ProducerFencedError('t.x', epoch)])
      expect(isFencedError(e)).toBe(true);
    const other = Object.assign(new Error('busy'), { type: 'CONCURRENT_TRANSACTIONS', code: 51 });
    expect(isFencedError(other)).toBe(false);
    expect(isFencedError(new Error('socket hang up'))).toBe(false);
  });
});
