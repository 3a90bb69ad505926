import pino from 'pino';

/**
 * Structured logs (JSON lines on stderr) for the pipeline roles. Level from TRIBUTARY_LOG_LEVEL,
 * read by the caller at the edge and passed in.
 */
export type Logger = pino.Logger;

export function createLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
