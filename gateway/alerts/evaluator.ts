import type { Observation } from './kinds.ts';
import type { AlertRule } from './rules.ts';

/**
 * The alert state machine, pure: given the previous states, each rule's observations of this tick
 * and the time, it returns the next states and what happened. Per rule and subject (a consumer
 * group, a poller, a topic, a role):
 *
 *   ok ──breaching──▶ pending ──still breaching `for` s──▶ firing ──not breaching──▶ ok (resolved)
 *        (for: 0 ──────────────────────────────────────▶ firing)
 *   pending ──not breaching──▶ ok (nothing was sent)
 *
 * Only two outcomes leave the machine, `fired` and `resolved`, each exactly once per occurrence: a
 * firing alert observed again stays firing without a new outcome. A subject that is no longer
 * observed (a group no longer watched) counts as not breaching; a rule whose signal has no data this
 * tick (null: Kafka unreachable) keeps its alerts as they are, neither firing nor resolving them.
 */
export interface Alert {
  /** one occurrence: `rule/subject@since` */
  id: string;
  /** the same for every occurrence of a rule and subject, across gateway restarts: `rule/subject` */
  fingerprint: string;
  rule: string;
  kind: string;
  subject: string;
  /** the rule's `above`, or null */
  threshold: number | null;
  forSeconds: number;
  /** the latest observed value and summary */
  value: number | null;
  summary: string;
  /** epoch ms: the condition has held since */
  since: number;
}

export type AlertState =
  | { phase: 'pending'; alert: Alert }
  | { phase: 'firing'; alert: Alert; firedAt: number };

export type AlertOutcome =
  | { kind: 'fired'; alert: Alert; firedAt: number }
  | { kind: 'resolved'; alert: Alert; firedAt: number; resolvedAt: number; summary: string };

export type AlertStates = ReadonlyMap<string, AlertState>;

export interface RuleObservations {
  rule: AlertRule;
  /** null: no data this tick */
  observations: Observation[] | null;
}

export function evaluate(
  previous: AlertStates,
  ticks: RuleObservations[],
  now: number,
): { states: Map<string, AlertState>; outcomes: AlertOutcome[] } {
  const states = new Map<string, AlertState>();
  const outcomes: AlertOutcome[] = [];
  for (const { rule, observations } of ticks) {
    const mine = [...previous].filter(([, s]) => s.alert.rule === rule.name);
    if (observations === null) {
      for (const [key, s] of mine) states.set(key, s);
      continue;
    }
    const seen = new Set<string>();
    for (const o of observations) {
      const fingerprint = `${rule.name}/${o.subject}`;
      if (seen.has(fingerprint)) continue; // a signal that names a subject twice: the first counts
      seen.add(fingerprint);
      const next = step(previous.get(fingerprint), rule, o, now, fingerprint);
      if (next.state) states.set(fingerprint, next.state);
      if (next.outcome) outcomes.push(next.outcome);
    }
    for (const [key, s] of mine) {
      if (seen.has(key)) continue;
      const gone: Observation = {
        subject: s.alert.subject,
        breaching: false,
        value: null,
        summary: 'no longer observed',
      };
      const next = step(s, rule, gone, now, key);
      if (next.outcome) outcomes.push(next.outcome);
    }
  }
  return { states, outcomes };
}

function step(
  current: AlertState | undefined,
  rule: AlertRule,
  o: Observation,
  now: number,
  fingerprint: string,
): { state?: AlertState; outcome?: AlertOutcome } {
  if (!o.breaching) {
    if (current?.phase === 'firing') {
      const alert = { ...current.alert, value: o.value };
      return {
        outcome: { kind: 'resolved', alert, firedAt: current.firedAt, resolvedAt: now, summary: o.summary },
      };
    }
    return {}; // ok stays ok; a pending alert is dropped without a word
  }
  const since = current?.alert.since ?? now;
  const alert: Alert = {
    id: `${fingerprint}@${new Date(since).toISOString()}`,
    fingerprint,
    rule: rule.name,
    kind: rule.kind,
    subject: o.subject,
    threshold: rule.above ?? null,
    forSeconds: rule.for,
    value: o.value,
    summary: o.summary,
    since,
  };
  if (current?.phase === 'firing') return { state: { phase: 'firing', alert, firedAt: current.firedAt } };
  if (now - since >= rule.for * 1000) {
    return {
      state: { phase: 'firing', alert, firedAt: now },
      outcome: { kind: 'fired', alert, firedAt: now },
    };
  }
  return { state: { phase: 'pending', alert } };
}
