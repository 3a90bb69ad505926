import { type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from './logger.ts';

export const KAFKA_LOG_LEVELS = ['nothing', 'error', 'warn', 'info', 'debug'] as const;
export type KafkaLogLevel = (typeof KAFKA_LOG_LEVELS)[number];

/**
 * kafkajs' own log lines, forwarded to our pino logger: a crash, a refused produce request or a
 * lost broker connection is otherwise invisible. Each line keeps its kafkajs namespace (Consumer,
 * Producer, Connection…) and fields (groupId, topic, error…). While a server is down, kafkajs
 * repeats the same line on every retry of every client: a line whose namespace and message were
 * already logged within `repeatWindowMs` is counted instead, and the count rides on the next one.
 */
export const KAFKAJS_LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

const PINO_METHOD: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Fields kafkajs adds to every entry that say nothing pino does not already say. */
const DROPPED = new Set(['timestamp', 'logger', 'message']);

export function kafkaLogCreator(
  logger: Logger,
  opts: { repeatWindowMs?: number; now?: () => number } = {},
): (level: logLevel) => (entry: LogEntry) => void {
  const windowMs = opts.repeatWindowMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const recent = new Map<string, { at: number; suppressed: number }>();
  return () =>
    ({ namespace, level, log }) => {
      const method = PINO_METHOD[level];
      if (!method) return;
      const key = `${namespace}\u0000${log.message}`;
      const t = now();
      const seen = recent.get(key);
      if (seen && t - seen.at < windowMs) {
        seen.suppressed++;
        return;
      }
      if (recent.size > 1000) recent.clear(); // messages embed ids; never let the map grow unbounded
      recent.set(key, { at: t, suppressed: 0 });
      const fields: Record<string, unknown> = { kafkajs: namespace || 'kafkajs' };
      for (const [k, v] of Object.entries(log)) {
        if (!DROPPED.has(k)) fields[k] = v instanceof Error ? `${v.name}: ${v.message}` : v;
      }
      if (seen && seen.suppressed > 0) fields.repeated = seen.suppressed;
      logger[method](fields, `kafkajs: ${log.message}`);
    };
}
