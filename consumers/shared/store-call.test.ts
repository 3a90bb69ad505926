import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../common/errors.ts';
import { storeCall } from './store-call.ts';

describe('storeCall', () => {
  it('names the store in the error and keeps what the error said about retrying', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:15432'), {
      code: 'ECONNREFUSED',
    });
    const err = await storeCall('Postgres', () => Promise.reject(refused)).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ message: 'Postgres: connect ECONNREFUSED 127.0.0.1:15432', retriable: true });
    expect(err.cause).toBe(refused);
    const tooLarge = Object.assign(new Error('MESSAGE_TOO_LARGE'), { retriable: false });
    expect(await storeCall('Kafka', () => Promise.reject(tooLarge)).catch((e) => e)).toMatchObject({
      retriable: false,
    });
    expect(await storeCall('Postgres', async () => 7)).toBe(7);
  });
});
