import { describe, expect, it } from 'vitest';
import { CursorError, decodeCursor, encodeCursor } from './cursor.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('cursor codec', () => {
  it('round-trips a position with and without updated_since, as URL-safe text', () => {
    const a = { updatedAt: 1_795_341_600_123, id: '3a2b6e25-1ee4-4ad8-b831-eea55beeca12' };
    const b = { ...a, updatedSince: 1_795_341_000_000 };
    expect(decodeCursor(encodeCursor(a))).toEqual(a);
    expect(decodeCursor(encodeCursor(b))).toEqual(b);
    expect(encodeCursor(b)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['JSON but not an object', b64(42)],
    ['an unknown version', b64({ v: 2, u: 1, i: 'a' })],
    ['a missing id', b64({ v: 1, u: 1 })],
    ['a non-numeric time', b64({ v: 1, u: '2026-01-01', i: 'a' })],
    ['a negative time', b64({ v: 1, u: -1, i: 'a' })],
    ['a bad updated_since', b64({ v: 1, u: 1, i: 'a', s: 'x' })],
    ['too long', 'a'.repeat(2000)],
  ])('rejects %s', (_what, text) => {
    expect(() => decodeCursor(text)).toThrow(CursorError);
  });
});
