import { describe, expect, it } from 'vitest';
import { type AlertOutcome, type AlertStates, evaluate } from './evaluator.ts';
import type { Observation } from './kinds.ts';
import type { AlertRule } from './rules.ts';

const lagRule: AlertRule = { name: 'gold-lag', kind: 'consumer-lag', above: 10, for: 5 };
const obs = (seconds: number, subject = 'g1'): Observation => ({
  subject,
  breaching: seconds > 10,
  value: seconds,
  summary: `group ${subject} is ${seconds} s behind`,
});

/** Runs ticks one second apart on a fake clock and collects every outcome. */
function run(rule: AlertRule, ticks: Array<Observation | Observation[] | null>, start = 1_000_000) {
  let states: AlertStates = new Map();
  const outcomes: Array<AlertOutcome & { at: number }> = [];
  const phases: string[] = [];
  ticks.forEach((tick, i) => {
    const now = start + i * 1000;
    const observations = tick === null || Array.isArray(tick) ? tick : [tick];
    const next = evaluate(states, [{ rule, observations }], now);
    states = next.states;
    outcomes.push(...next.outcomes.map((o) => ({ ...o, at: now })));
    phases.push([...states.values()].map((s) => s.phase).join(',') || 'ok');
  });
  return { states, outcomes, phases };
}

describe('alert evaluator', () => {
  it('goes ok → pending → firing after `for` seconds → resolved, with one fired and one resolved outcome', () => {
    const ticks = [obs(1), obs(20), obs(30), obs(40), obs(50), obs(60), obs(70), obs(80), obs(2), obs(1)];
    const { outcomes, phases } = run(lagRule, ticks);
    expect(phases).toEqual([
      'ok',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'firing',
      'firing',
      'ok',
      'ok',
    ]);
    expect(outcomes.map((o) => [o.kind, o.at - 1_000_000])).toEqual([
      ['fired', 6000], // breaching since t=1 s, for 5 s
      ['resolved', 8000],
    ]);
    const [fired, resolved] = outcomes;
    expect(fired).toMatchObject({
      alert: {
        fingerprint: 'gold-lag/g1',
        rule: 'gold-lag',
        kind: 'consumer-lag',
        threshold: 10,
        forSeconds: 5,
      },
    });
    expect(fired!.alert.since).toBe(1_001_000);
    expect(resolved).toMatchObject({
      kind: 'resolved',
      firedAt: 1_006_000,
      resolvedAt: 1_008_000,
      summary: 'group g1 is 2 s behind',
    });
    expect(resolved!.alert.id).toBe(fired!.alert.id);
  });

  it('sends nothing for a condition that clears before `for` and restarts the clock when it comes back', () => {
    const ticks = [obs(20), obs(20), obs(20), obs(1), obs(20), obs(20), obs(20), obs(20), obs(20), obs(20)];
    const { outcomes, phases } = run(lagRule, ticks);
    expect(phases.slice(0, 5)).toEqual(['pending', 'pending', 'pending', 'ok', 'pending']);
    expect(outcomes.map((o) => [o.kind, o.at - 1_000_000])).toEqual([['fired', 9000]]);
  });

  it('fires at once with for: 0 and keeps one firing alert, updated, while it holds', () => {
    const rule = { ...lagRule, for: 0 };
    const { outcomes, states } = run(rule, [obs(11), obs(12), obs(13)]);
    expect(outcomes.map((o) => o.kind)).toEqual(['fired']);
    expect([...states.values()][0]).toMatchObject({
      phase: 'firing',
      alert: { value: 13 },
      firedAt: 1_000_000,
    });
  });

  it('keeps alerts as they are while the rule has no data, and resolves one whose subject disappears', () => {
    const rule = { ...lagRule, for: 0 };
    const { outcomes, phases } = run(rule, [[obs(20, 'a'), obs(20, 'b')], null, null, [obs(20, 'a')]]);
    expect(phases).toEqual(['firing,firing', 'firing,firing', 'firing,firing', 'firing']);
    expect(outcomes.map((o) => `${o.kind} ${o.alert.subject}`)).toEqual(['fired a', 'fired b', 'resolved b']);
  });

  it('keeps each rule apart: subjects, states and outcomes', () => {
    const other: AlertRule = { name: 'other', kind: 'consumer-lag', above: 10, for: 0 };
    let states: AlertStates = new Map();
    const a = evaluate(
      states,
      [
        { rule: lagRule, observations: [obs(20)] },
        { rule: other, observations: [obs(20)] },
      ],
      0,
    );
    states = a.states;
    expect(a.outcomes.map((o) => o.alert.fingerprint)).toEqual(['other/g1']);
    const b = evaluate(
      states,
      [
        { rule: lagRule, observations: [obs(20)] },
        { rule: other, observations: [] },
      ],
      5000,
    );
    expect(b.outcomes.map((o) => [o.kind, o.alert.fingerprint])).toEqual([
      ['fired', 'gold-lag/g1'],
      ['resolved', 'other/g1'],
    ]);
  });
});
