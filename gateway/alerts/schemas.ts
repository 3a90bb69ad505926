import { type Static, Type } from 'typebox';

/**
 * The alerts' shapes, for GET /api/alerts (validated and documented by Fastify) and for the
 * `alerts` Socket.IO event (gateway/events.ts), which the dashboard imports type-only. No runtime
 * dependency but TypeBox.
 */
const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const AlertItem = Type.Object({
  /** one occurrence of the alert: `rule/subject@since` */
  id: Type.String(),
  /** the same for every occurrence of a rule and subject: `rule/subject` */
  fingerprint: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('firing'), Type.Literal('resolved')]),
  rule: Type.String(),
  kind: Type.String(),
  /** the consumer group, poller API, topic or role; '' for the pipeline as a whole */
  subject: Type.String(),
  summary: Type.String(),
  value: NullableNumber,
  threshold: NullableNumber,
  forSeconds: Type.Number(),
  /** the condition has held since */
  since: Timestamp,
  firedAt: NullableTimestamp,
  resolvedAt: NullableTimestamp,
});

export const AlertRuleInfo = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  above: NullableNumber,
  unit: Type.Union([Type.String(), Type.Null()]),
  for: Type.Number(),
});

export const AlertsSnapshot = Type.Object({
  /** the rules file, or 'defaults' */
  source: Type.String(),
  rules: Type.Array(AlertRuleInfo),
  /** pending and firing alerts, firing first */
  active: Type.Array(AlertItem),
  /** alerts that fired, newest first, with their resolution when resolved (the last 100, in memory) */
  history: Type.Array(AlertItem),
  webhooks: Type.Array(
    Type.Object({
      name: Type.String(),
      format: Type.String(),
      delivered: Type.Integer(),
      failed: Type.Integer(),
      lastError: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  /** when the rules were last evaluated; null before the first tick */
  evaluatedAt: NullableTimestamp,
});

export type AlertItem = Static<typeof AlertItem>;
export type AlertRuleInfo = Static<typeof AlertRuleInfo>;
export type AlertsSnapshot = Static<typeof AlertsSnapshot>;
