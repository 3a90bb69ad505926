import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import { RULE_KINDS } from './kinds.ts';
import { alertsConfig, DEFAULT_RULES, parseAlertsConfig } from './rules.ts';

function fileWith(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'alerts-')), 'alerts.yaml');
  writeFileSync(path, text);
  return path;
}

function problem(doc: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseAlertsConfig(doc, 'alerts.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('alert rules file', () => {
  it('ships valid defaults, enabled, when no file is given', () => {
    const c = alertsConfig(undefined);
    expect(c).toEqual({ source: 'defaults', rules: DEFAULT_RULES, webhooks: [] });
    expect(parseAlertsConfig({ rules: DEFAULT_RULES }, 'defaults').rules).toEqual(DEFAULT_RULES);
    expect(new Set(DEFAULT_RULES.map((r) => r.kind))).toEqual(new Set(Object.keys(RULE_KINDS)));
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax of the rules file
  it('reads a YAML file with defaults applied and ${VAR} expanded in webhooks', () => {
    const path = fileWith(`
rules:
  - name: gold-lag
    kind: consumer-lag
    group: tributary.gold-postgres
    above: 120
    for: 60
  - { name: roles, kind: role-not-ready }
webhooks:
  - name: ops
    url: https://hooks.example.com/\${HOOK_PATH}
    headers: { Authorization: "Bearer \${HOOK_TOKEN}" }
  - { name: chat, url: "http://127.0.0.1:9/slack", format: slack }
`);
    const c = alertsConfig(path, { HOOK_PATH: 'abc', HOOK_TOKEN: 't0k' });
    expect(c.source).toBe(path);
    expect(c.rules).toEqual([
      { name: 'gold-lag', kind: 'consumer-lag', group: 'tributary.gold-postgres', above: 120, for: 60 },
      { name: 'roles', kind: 'role-not-ready', for: 0 },
    ]);
    expect(c.webhooks).toEqual([
      {
        name: 'ops',
        url: 'https://hooks.example.com/abc',
        format: 'json',
        headers: { Authorization: 'Bearer t0k' },
      },
      { name: 'chat', url: 'http://127.0.0.1:9/slack', format: 'slack', headers: {} },
    ]);
  });

  it('names the rule, the field and the fix for each kind of mistake', () => {
    const cases: Array<[unknown, RegExp, RegExp]> = [
      [
        { rules: [{ name: 'a', kind: 'lag' }] },
        /rules\[0\] "a"\.kind is "lag"/,
        /use one of consumer-lag, poller-failing/,
      ],
      [
        { rules: [{ name: 'a', kind: 'consumer-lag', for: 5 }] },
        /rules\[0\] "a"\.above is missing/,
        /threshold in s/,
      ],
      [
        { rules: [{ name: 'a', kind: 'consumer-lag', above: -1 }] },
        /rules\[0\] "a"\.above is -1/,
        /set above to the threshold in s/,
      ],
      [
        {
          rules: [
            { name: 'ok', kind: 'freshness', above: 1 },
            { name: 'b', kind: 'freshness', above: 1, fro: 3 },
          ],
        },
        /rules\[1\] "b"\.fro is not a known field/,
        /name, kind, for, above/,
      ],
      [
        { rules: [{ name: 'p', kind: 'poller-failing', above: 3 }] },
        /rules\[0\] "p"\.above is not a known field/,
        /name, kind, for, api/,
      ],
      [{ rules: [{ kind: 'freshness' }] }, /rules\[0\]\.name is missing/, /unique name/],
      [
        { rules: [{ name: 'x', kind: 'role-not-ready', for: '1m' }] },
        /rules\[0\] "x"\.for is "1m"/,
        /seconds the condition must hold/,
      ],
      [
        {
          rules: [
            { name: 'x', kind: 'role-not-ready' },
            { name: 'x', kind: 'role-not-ready' },
          ],
        },
        /two entries named "x"/,
        /unique name/,
      ],
      [{ rule: [] }, /alerts\.yaml:\.rule is not a known field/, /rules, webhooks/],
      [
        { webhooks: [{ name: 'w', url: 'ftp://x' }] },
        /webhooks\[0\] "w"\.url is "ftp:\/\/x"/,
        /give an http\(s\) URL/,
      ],
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax of the rules file
        { webhooks: [{ name: 'w', url: 'https://x/${NOPE}' }] },
        /webhooks\[0\] "w"\.url uses \$\{NOPE\}, which is not set/,
        /set the environment variable NOPE/,
      ],
      [
        { webhooks: [{ name: 'w', url: 'https://x', format: 'teams' }] },
        /webhooks\[0\]\.format is "teams"/,
        /json \(the generic payload\) or slack/,
      ],
    ];
    for (const [doc, message, fix] of cases) {
      const err = problem(doc);
      expect(err.message, JSON.stringify(doc)).toMatch(message);
      expect(err.fix, JSON.stringify(doc)).toMatch(fix);
    }
  });

  it('says which file cannot be read or parsed', () => {
    expect(() => alertsConfig('/nonexistent/alerts.yaml')).toThrow(
      /TRIBUTARY_ALERTS_FILE names \/nonexistent\/alerts.yaml, which cannot be read/,
    );
    expect(() => alertsConfig(fileWith('rules: [\n  - name: a\n  kind'))).toThrow(/which is not valid YAML/);
  });

  it('reads a JSON file without the yaml package', () => {
    const path = fileWith(JSON.stringify({ rules: [{ name: 'r', kind: 'freshness', above: 60 }] })).replace(
      /\.yaml$/,
      '.json',
    );
    writeFileSync(path, JSON.stringify({ rules: [{ name: 'r', kind: 'freshness', above: 60 }] }));
    expect(alertsConfig(path).rules).toEqual([{ name: 'r', kind: 'freshness', above: 60, for: 0 }]);
    writeFileSync(path, '{"rules": [');
    expect(() => alertsConfig(path)).toThrow(/which is not valid JSON/);
  });
});
