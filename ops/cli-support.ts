import { InvalidArgumentError } from 'commander';

/**
 * Small pieces the operator commands share: argument parsers that make commander report a bad
 * value as an argument error (exit code 2), and Ctrl-C as an AbortSignal.
 */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return Number(value);
}

/** Wraps a parser that throws Error into one commander reports as an invalid argument. */
export function argument<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** Aborts on the first Ctrl-C (SIGINT) or SIGTERM; `dispose()` removes the handlers. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** A line on stderr: progress and prompts stay out of stdout, which carries the results (and --json). */
export const note = (line: string) => process.stderr.write(`${line}\n`);
