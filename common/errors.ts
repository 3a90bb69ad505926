/**
 * One place for the error classes of the project. Every class says whether a retry can help
 * (`retriable`), so the retry helper and the CLI can decide without string matching.
 */
export class TributaryError extends Error {
  /** true when the same call may succeed later (a server still starting, a 5xx, a timeout). */
  readonly retriable: boolean;
  /** A short hint that tells the user how to fix it, printed after the message. */
  readonly fix?: string;

  constructor(message: string, opts: { retriable?: boolean; fix?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable ?? false;
    this.fix = opts.fix;
  }
}

/** A setting is missing or invalid. Never retriable: the process stops and names the field. */
export class ConfigError extends TributaryError {
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`invalid configuration: ${field} ${problem}`, { retriable: false, fix });
  }
}

/** A prerequisite (Java, Maven, Postgres binaries…) is missing on this machine. */
export class MissingToolError extends TributaryError {
  constructor(tool: string, fix: string) {
    super(`${tool} was not found`, { retriable: false, fix });
  }
}

/** A local server could not be started or stopped. */
export class InfraError extends TributaryError {}

/** A remote endpoint answered with an error or not at all. `retriable` depends on the status. */
export class RemoteError extends TributaryError {
  constructor(
    message: string,
    readonly status?: number,
    opts: { retriable?: boolean; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { retriable: opts.retriable, cause: opts.cause });
    this.retryAfterMs = opts.retryAfterMs;
  }
  readonly retryAfterMs?: number;
}

/** A record does not satisfy its schema or a business rule: never retriable, goes to a DLQ. */
export class InvalidRecordError extends TributaryError {}

export function isRetriable(err: unknown): boolean {
  return err instanceof TributaryError ? err.retriable : false;
}

/** One line for a human: the message and, when known, how to fix it. */
export function describeError(err: unknown): string {
  if (err instanceof TributaryError) return err.fix ? `${err.message}\n  fix: ${err.fix}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
