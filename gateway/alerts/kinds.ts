import { type TObject, Type } from 'typebox';
import type { LiveUpdate } from '../events.ts';

/**
 * The rule kinds. A kind is a TypeBox schema of its own fields (validated when the rules file is
 * read) and a signal: a pure function from the gateway's current view to one observation per
 * subject (a consumer group, a poller's API, a topic, a role). The evaluator (evaluator.ts) turns
 * observations into pending / firing / resolved alerts; a kind never keeps state.
 *
 * Adding a kind: write its schema and signal here (or in its own file), add it to RULE_KINDS, give
 * the AlertView what it reads (engine.ts builds the view), document it in docs/operations.md.
 */
export interface AlertView {
  /** epoch ms on the gateway */
  now: number;
  /** the hub's latest update: lag per group, pollers, dead letters, sources */
  update: LiveUpdate;
  /** dead letters appended in the last minute, per dead-letter topic */
  deadLettersPerMinute: Array<{ topic: string; perMinute: number }>;
  /** every role the gateway has heard from since it started */
  roles: RoleReadiness[];
  /** the gold freshness read from the gold table; null when not read (yet) or the read failed */
  freshness: { seconds: number | null; rows: number } | null;
}

export interface RoleReadiness {
  role: string;
  freshInstances: number;
  /** epoch ms of the last snapshot, null when none within the aggregator's memory (5 minutes) */
  lastReceivedAt: number | null;
  stalled: Array<{ instance: string; reason: string }>;
}

export interface Observation {
  /** what the alert is about within the rule, e.g. the consumer group; '' for the pipeline */
  subject: string;
  breaching: boolean;
  /** the measured value (seconds, dead letters per minute), null when the kind has none */
  value: number | null;
  /** one line for a human, e.g. "group tributary.gold-postgres is 312 s behind (4,120 messages)" */
  summary: string;
}

/** Common to every rule; the kind's own fields come on top. */
export interface BaseRule {
  name: string;
  kind: string;
  /** seconds the condition must hold before the alert fires (0: at once) */
  for: number;
  /** the threshold, in the kind's unit; absent for kinds that have none */
  above?: number;
}

export interface RuleKind<R extends BaseRule = BaseRule> {
  /** what the kind watches, for errors and docs */
  description: string;
  /** the unit of `above`, or undefined when the kind takes no threshold */
  unit?: string;
  /** the kind's fields besides name, kind, for (and above when it has a unit) */
  fields: TObject;
  /** null: no data this tick (a source is down): every alert of the rule stays as it is */
  signal(view: AlertView, rule: R): Observation[] | null;
}

const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface LagRule extends BaseRule {
  above: number;
  group?: string;
  groupPrefix?: string;
}
const consumerLag: RuleKind<LagRule> = {
  description: "a consumer group's lag in seconds (age of its oldest unconsumed message)",
  unit: 's',
  fields: Type.Object({
    group: Optional('one consumer group, e.g. tributary.gold-postgres (default: every watched group)'),
    groupPrefix: Optional('only the watched groups whose name starts with it, e.g. tributary.gold-'),
  }),
  signal(view, rule) {
    if (!view.update.sources.kafka.ok) return null;
    return view.update.lag
      .filter(
        (g) =>
          (rule.group === undefined || g.group === rule.group) && g.group.startsWith(rule.groupPrefix ?? ''),
      )
      .map((g) => ({
        subject: g.group,
        breaching: g.seconds > rule.above,
        value: g.seconds,
        summary: `group ${g.group} is ${fmt(g.seconds)}${g.secondsAtLeast ? '+' : ''} s behind (${fmt(g.messages)} messages)`,
      }));
  },
};

interface PollerRule extends BaseRule {
  api?: string;
}
const pollerFailing: RuleKind<PollerRule> = {
  description: 'a poller that reports itself unhealthy (its source requests keep failing)',
  fields: Type.Object({ api: Optional('one polled API, e.g. jobs (default: every API)') }),
  signal(view, rule) {
    return view.update.pollers
      .filter((p) => p.healthy !== null && (rule.api === undefined || p.api === rule.api))
      .map((p) => ({
        subject: p.api,
        breaching: p.healthy === false,
        value: null,
        summary:
          p.healthy === false
            ? `poller ${p.api} is failing${p.lastSuccessAt !== null ? `; last success ${fmt((view.now - p.lastSuccessAt) / 1000)} s ago` : ''}`
            : `poller ${p.api} is healthy`,
      }));
  },
};

interface DeadLetterRule extends BaseRule {
  above: number;
  topic?: string;
}
const deadLetters: RuleKind<DeadLetterRule> = {
  description: 'records sent to a dead-letter topic in the last minute',
  unit: '/min',
  fields: Type.Object({ topic: Optional('one dead-letter topic, e.g. dlq.raw.jobs (default: every one)') }),
  signal(view, rule) {
    if (!view.update.sources.kafka.ok) return null;
    return view.deadLettersPerMinute
      .filter((d) => rule.topic === undefined || d.topic === rule.topic)
      .map((d) => ({
        subject: d.topic,
        breaching: d.perMinute > rule.above,
        value: d.perMinute,
        summary: `${fmt(d.perMinute)} dead letters in the last minute on ${d.topic}`,
      }));
  },
};

const freshness: RuleKind<BaseRule & { above: number }> = {
  description: 'the worst time from a source change to its gold row, over rows written in the last minute',
  unit: 's',
  fields: Type.Object({}),
  signal(view, rule) {
    const f = view.freshness;
    if (f === null) return null;
    return [
      {
        subject: '',
        breaching: f.seconds !== null && f.seconds > rule.above,
        value: f.seconds,
        summary:
          f.seconds === null
            ? 'no gold row written in the last minute'
            : `gold rows written in the last minute are up to ${fmt(f.seconds)} s behind their source change (${fmt(f.rows)} rows)`,
      },
    ];
  },
};

interface RoleRule extends BaseRule {
  role?: string;
}
const roleNotReady: RuleKind<RoleRule> = {
  description:
    'a role whose /readyz fails: an instance says it is stalled, or no instance of it sent metrics in the last 15 s',
  fields: Type.Object({ role: Optional('one role, e.g. processor (default: every role)') }),
  signal(view, rule) {
    return view.roles
      .filter((r) => rule.role === undefined || r.role === rule.role)
      .map((r) => {
        const silent = r.freshInstances === 0;
        const stalled = r.stalled.map((s) => `${s.instance}: ${s.reason}`).join(' | ');
        return {
          subject: r.role,
          breaching: silent || r.stalled.length > 0,
          value: null,
          summary: stalled
            ? `${r.role} is stalled: ${stalled}`
            : silent
              ? `no metrics from ${r.role}${r.lastReceivedAt !== null ? ` for ${fmt((view.now - r.lastReceivedAt) / 1000)} s` : ' for over 5 minutes'}`
              : `${r.role} is ready`,
        };
      });
  },
};

interface WalkRule extends BaseRule {
  api?: string;
}
/** Fed by the walk reconciler (gateway/walks/): absent from the update when it does not run. */
const walkUnreconciled: RuleKind<WalkRule> = {
  description:
    'a poller walk that does not reconcile: a version the source served is neither in bronze nor in a dead-letter topic once bronze has caught up',
  fields: Type.Object({ api: Optional('one polled API, e.g. jobs (default: every API)') }),
  signal(view, rule) {
    const walks = view.update.walks;
    if (walks === undefined) return null;
    return walks
      .filter((w) => rule.api === undefined || w.api === rule.api)
      .map((w) => ({
        subject: w.api,
        breaching: w.unreconciledWalks > 0,
        value: w.unreconciledWalks,
        summary:
          w.unreconciledWalks > 0
            ? `${fmt(w.unreconciledWalks)} walk(s) of ${w.api} do not reconcile (tributary status lists them)`
            : `every walk of ${w.api} reconciles`,
      }));
  },
};

// biome-ignore lint/suspicious/noExplicitAny: each kind narrows the rule to its own fields
export const RULE_KINDS: Record<string, RuleKind<any>> = {
  'consumer-lag': consumerLag,
  'poller-failing': pollerFailing,
  'dead-letters': deadLetters,
  freshness,
  'role-not-ready': roleNotReady,
  'walk-unreconciled': walkUnreconciled,
};
