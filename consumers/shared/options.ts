import { Type } from 'typebox';
import { ConfigError } from '../../common/errors.ts';

/**
 * Environment variables every consumer role of this folder shares (session and heartbeat timing).
 * Each component's options.ts spreads these into its own TypeBox schema; topic and group names come
 * from the topology (contracts/topology.ts).
 */
export const ConsumerEnvProperties = {
  TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: Type.Integer({
    minimum: 6000,
    maximum: 300_000,
    default: 30_000,
    description:
      'the consumer group session timeout in ms (6000-300000); a killed instance holds its partitions this long',
  }),
  TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 3000,
    description: 'the consumer heartbeat interval in ms, at most a third of the session timeout',
  }),
};

export interface ConsumerTiming {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export function consumerTiming(e: {
  TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: number;
  TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: number;
}): ConsumerTiming {
  if (e.TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS * 3 > e.TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS) {
    throw new ConfigError(
      'TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS',
      `is ${e.TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS}: more than a third of the session timeout (${e.TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS})`,
      'lower it, or raise TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS',
    );
  }
  return {
    sessionTimeoutMs: e.TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: e.TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS,
  };
}

/** Parses a comma-separated subset of `allowed`, naming the field when a value is unknown. */
export function parseSubset<T extends string>(field: string, raw: string, allowed: readonly T[]): T[] {
  const values = raw
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const unknown = values.filter((v) => !allowed.includes(v as T));
  if (values.length === 0 || unknown.length > 0) {
    throw new ConfigError(
      field,
      `is ${JSON.stringify(raw)}: ${unknown.length > 0 ? `unknown value ${unknown.join(', ')}` : 'empty'}`,
      `set ${field} to a comma-separated subset of ${allowed.join(',')}`,
    );
  }
  return [...new Set(values as T[])];
}
