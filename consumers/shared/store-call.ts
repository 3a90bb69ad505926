import { describeError, RemoteError, TributaryError } from '../../common/errors.ts';

/**
 * Runs one call against a store and, when it fails, says which store: "Postgres: connect
 * ECONNREFUSED 127.0.0.1:15432" is what the stall reason, the logs and /readyz then show, instead
 * of a bare socket error. Whether it is retriable is kept as the error said (ours and kafkajs' say
 * it); unknown errors (a socket error of pg or the MongoDB driver) stay retriable, as kafkajs treats
 * them, so the batch is retried while the store is down.
 */
export async function storeCall<T>(store: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TributaryError && err.message.startsWith(`${store}: `)) throw err;
    throw new RemoteError(`${store}: ${describeError(err)}`, undefined, {
      retriable: retriableOf(err),
      cause: err,
    });
  }
}

function retriableOf(err: unknown): boolean {
  if (err instanceof TributaryError) return err.retriable;
  const flag = (err as { retriable?: unknown } | null)?.retriable;
  return typeof flag === 'boolean' ? flag : true;
}
