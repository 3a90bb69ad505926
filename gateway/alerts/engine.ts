import { describeError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { type AlertState, type AlertStates, evaluate } from './evaluator.ts';
import { type AlertView, RULE_KINDS } from './kinds.ts';
import type { Notifier } from './notify.ts';
import type { AlertsConfig } from './rules.ts';
import type { AlertItem, AlertsSnapshot } from './schemas.ts';

/**
 * Runs the rules over each view the gateway builds (one per live tick), keeps the alert states and
 * the history in memory, hands each firing and each resolution to the notifier once, and tells
 * subscribers (the dashboard's sockets) when something changed. A signal that throws counts as "no
 * data" for its rule that tick (logged), so one broken kind cannot stop the others.
 */
export interface AlertEngine {
  evaluate(view: AlertView): void;
  snapshot(): AlertsSnapshot;
  /** called after an evaluation that changed the active alerts (their phase or summary) or the history */
  subscribe(listener: (snapshot: AlertsSnapshot) => void): () => void;
}

const HISTORY = 100;

export function createAlertEngine(deps: {
  config: AlertsConfig;
  notifier: Notifier;
  logger: Logger;
  onOutcome?: (rule: string, kind: 'fired' | 'resolved') => void;
}): AlertEngine {
  const { config } = deps;
  let states: AlertStates = new Map();
  let evaluatedAt: number | null = null;
  /** fired alerts, newest first; a resolution replaces its firing entry */
  let history: AlertItem[] = [];
  const listeners = new Set<(s: AlertsSnapshot) => void>();
  const rules = config.rules.map((rule) => {
    const kind = RULE_KINDS[rule.kind]!;
    return {
      name: rule.name,
      kind: rule.kind,
      description: kind.description,
      above: rule.above ?? null,
      unit: kind.unit ?? null,
      for: rule.for,
    };
  });

  function snapshot(): AlertsSnapshot {
    const active = [...states.values()]
      .map(item)
      .sort((a, b) => (a.state === b.state ? a.since.localeCompare(b.since) : a.state === 'firing' ? -1 : 1));
    return {
      source: config.source,
      rules,
      active,
      history: [...history],
      webhooks: deps.notifier.status(),
      evaluatedAt: evaluatedAt === null ? null : new Date(evaluatedAt).toISOString(),
    };
  }

  return {
    evaluate(view) {
      const ticks = config.rules.map((rule) => {
        try {
          return { rule, observations: RULE_KINDS[rule.kind]!.signal(view, rule) };
        } catch (err) {
          deps.logger.error(
            { rule: rule.name, err: describeError(err) },
            'alert rule failed; kept as it was',
          );
          return { rule, observations: null };
        }
      });
      const before = activeKey(states);
      const next = evaluate(states, ticks, view.now);
      states = next.states;
      evaluatedAt = view.now;
      for (const o of next.outcomes) {
        const entry: AlertItem =
          o.kind === 'fired'
            ? { ...item({ phase: 'firing', alert: o.alert, firedAt: o.firedAt }) }
            : {
                ...item({ phase: 'firing', alert: o.alert, firedAt: o.firedAt }),
                state: 'resolved',
                summary: o.summary,
                resolvedAt: new Date(o.resolvedAt).toISOString(),
              };
        history = [entry, ...history.filter((h) => h.id !== entry.id)].slice(0, HISTORY);
        deps.logger.warn({ alert: entry.id, summary: entry.summary }, `alert ${o.kind}`);
        deps.onOutcome?.(o.alert.rule, o.kind);
        deps.notifier.send(entry);
      }
      if (next.outcomes.length > 0 || activeKey(states) !== before) {
        const s = snapshot();
        for (const listener of listeners) {
          try {
            listener(s);
          } catch (err) {
            deps.logger.warn({ err: describeError(err) }, 'alerts listener failed');
          }
        }
      }
    },
    snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Changes when an alert appears, disappears, changes phase or says something new (the banner shows
 * the current summary): about once a second while a lag alert is active, never while all is well.
 */
function activeKey(states: AlertStates): string {
  return [...states].map(([k, s]) => `${k}:${s.phase}:${s.alert.summary}`).join('|');
}

function item(s: AlertState): AlertItem {
  const a = s.alert;
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    state: s.phase,
    rule: a.rule,
    kind: a.kind,
    subject: a.subject,
    summary: a.summary,
    value: a.value,
    threshold: a.threshold,
    forSeconds: a.forSeconds,
    since: new Date(a.since).toISOString(),
    firedAt: s.phase === 'firing' ? new Date(s.firedAt).toISOString() : null,
    resolvedAt: null,
  };
}
