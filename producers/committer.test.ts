import { describe, expect, it } from 'vitest';
import { isFencedError, ProducerFencedError } from './committer.ts';

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
