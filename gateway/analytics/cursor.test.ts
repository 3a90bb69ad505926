import { describe, expect, it } from 'vitest';
import { BadCursorError, decodeCursor, encodeCursor } from './cursor.ts';

describe('job cursors', () => {
  it('round-trips the key with microseconds', () => {
    const key = { createdAt: '2024-05-01T10:00:00.123456Z', jobId: '0d4f8a58-7f5e-4a57-9d0e-52a1e4b1f001' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  it.each([
    ['not base64 json', 'zzz'],
    ['wrong shape', Buffer.from(JSON.stringify({ a: 1 })).toString('base64url')],
    [
      'bad timestamp',
      Buffer.from(JSON.stringify(['yesterday', '0d4f8a58-7f5e-4a57-9d0e-52a1e4b1f001'])).toString(
        'base64url',
      ),
    ],
    ['bad uuid', Buffer.from(JSON.stringify(['2024-05-01T10:00:00.123456Z', 'x'])).toString('base64url')],
  ])('rejects %s', (_what, text) => {
    expect(() => decodeCursor(text)).toThrow(BadCursorError);
  });
});
