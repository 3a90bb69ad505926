import { describeError, RemoteError, TributaryError } from '../../common/errors.ts';

/**
 * Runs one call against a store and, when it fails, says which store: "Postgres: connect
 * ECONNREFUSED 127.0.0.1:15432" is what the stall reason, the logs and /readyz then show, instead
 * of a bare socket error. The error stays retriable unless it said otherwise (kafkajs retries the
 * batch while the store is down).
 */
export async function storeCall<T>(store: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TributaryError && err.message.startsWith(`${store}: `)) throw err;
    throw new RemoteError(`${store}: ${describeError(err)}`, undefined, {
      retriable: err instanceof TributaryError ? err.retriable : true,
      cause: err,
    });
  }
}
