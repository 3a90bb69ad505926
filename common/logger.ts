import pino from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs for the pipeline roles: JSON lines on stderr for machines, pino-pretty (in the
 * same thread, no worker) when a person is watching a terminal. Level from TRIBUTARY_LOG_LEVEL,
 * read by the caller at the edge and passed in.
 */
export type Logger = pino.Logger;

/** `fields` go into every line, e.g. `{ instance }` (common/instance.ts). */
export function createLogger(name: string, level = 'info', fields: Record<string, string> = {}): Logger {
  const destination = process.stderr.isTTY
    ? pretty({
        destination: 2,
        sync: true,
        colorize: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss.l',
      })
    : pino.destination(2);
  return pino({ name, level, base: { pid: process.pid, ...fields } }, destination);
}

/** A logger that writes nothing: for health probes whose failures are the expected answer. */
export function silentLogger(): Logger {
  return pino({ level: 'silent', enabled: false });
}
