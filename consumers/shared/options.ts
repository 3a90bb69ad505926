import { Type } from 'typebox';
import { ConfigError } from '../../common/errors.ts';
import { TOPICS } from '../../infra/topics.ts';

/**
 * Environment variables every consumer role of this folder shares (session and heartbeat timing,
 * the metrics topic). Each component's options.ts spreads these into its own TypeBox schema, so
 * there is still one readEnv call and one error message per component.
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
  TRIBUTARY_METRICS_TOPIC: Type.String({
    minLength: 1,
    default: defaultTopic('_tributary.metrics'),
    description: 'the topic metrics snapshots are published to, e.g. _tributary.metrics',
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

/** A default topic name, checked against infra/topics.ts so the two cannot drift apart. */
export function defaultTopic(name: string): string {
  if (!TOPICS.some((t) => t.name === name)) throw new Error(`${name} is not declared in infra/topics.ts`);
  return name;
}

/** The dead-letter topic of a topic: `dlq.<topic>`, as declared in infra/topics.ts for the defaults. */
export function dlqTopicOf(topic: string): string {
  return `dlq.${topic}`;
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
