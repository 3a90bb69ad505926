import type { Logger } from '../../common/logger.ts';

/**
 * Runs clean-up steps in order, each even when an earlier one failed (a consumer that cannot leave
 * its group must not keep the database pool open), and throws the first error at the end.
 */
export async function closeInOrder(
  steps: ReadonlyArray<readonly [what: string, close: () => Promise<unknown>]>,
  logger: Logger,
): Promise<void> {
  let first: unknown;
  for (const [what, close] of steps) {
    try {
      await close();
    } catch (err) {
      logger.error({ err }, `closing ${what} failed`);
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** Wraps an async function so that it runs once; later calls share the first call's promise. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
