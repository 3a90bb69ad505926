import { describe, expect, it } from 'vitest';
import { newClusterId } from './kafka.ts';

describe('newClusterId', () => {
  it('is 16 bytes of URL-safe base64 that never starts with "-" (the storage tool would read an option)', () => {
    // 0xf8 encodes to '-' as the first base64url character: the first draw must be refused
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = newClusterId(() => draws.shift()!);
    expect(draws).toEqual([]);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    for (let i = 0; i < 200; i++) expect(newClusterId()).not.toMatch(/^-/);
  });
});
