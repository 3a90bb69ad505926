import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type TObject, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import { ConfigError, describeError } from '../../common/errors.ts';
import { type BaseRule, RULE_KINDS } from './kinds.ts';

/**
 * The alert rules and webhooks, from a YAML (or JSON) file named by TRIBUTARY_ALERTS_FILE, or the
 * defaults below when no file is given. Read once at start and validated with TypeBox: the first
 * problem stops the gateway with the file, the rule (by name and position) and the field, and the fix.
 */
export interface AlertsConfig {
  /** where the rules came from: the file's path, or 'defaults' */
  source: string;
  rules: AlertRule[];
  webhooks: WebhookConfig[];
}

export type AlertRule = BaseRule & Record<string, unknown>;

export interface WebhookConfig {
  name: string;
  url: string;
  /** json: the generic payload (notify.ts); slack: `{ text, blocks }` for Slack incoming webhooks */
  format: 'json' | 'slack';
  headers: Record<string, string>;
}

/** Shipped enabled: what an operator wants to know without writing a file. No webhooks by default. */
export const DEFAULT_RULES: AlertRule[] = [
  { name: 'consumer-lag', kind: 'consumer-lag', above: 300, for: 120 },
  { name: 'poller-failing', kind: 'poller-failing', for: 300 },
  { name: 'dead-letters', kind: 'dead-letters', above: 10, for: 120 },
  { name: 'gold-freshness', kind: 'freshness', above: 600, for: 300 },
  { name: 'role-not-ready', kind: 'role-not-ready', for: 60 },
  { name: 'walk-unreconciled', kind: 'walk-unreconciled', for: 0 },
];

const FIELD = 'TRIBUTARY_ALERTS_FILE';
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

const FileSchema = Type.Object(
  {
    rules: Type.Optional(Type.Array(Type.Unknown(), { description: 'a list of rules' })),
    webhooks: Type.Optional(Type.Array(Type.Unknown(), { description: 'a list of webhooks' })),
  },
  { additionalProperties: false },
);

const RuleHead = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN, description: 'a unique name of letters, digits, . _ -' }),
  kind: Type.String({ description: `one of ${Object.keys(RULE_KINDS).join(', ')}` }),
});

const WebhookSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'a unique name of letters, digits, . _ -' }),
    url: Type.String({
      minLength: 1,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax of the rules file
      description: 'an http(s) URL; ${VAR} is replaced by the environment variable VAR',
    }),
    format: Type.Union([Type.Literal('json'), Type.Literal('slack')], {
      default: 'json',
      description: 'json (the generic payload) or slack',
    }),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax of the rules file
      description: 'a map of header name to value, e.g. Authorization: Bearer ${TOKEN}',
    }),
  },
  { additionalProperties: false },
);

function ruleSchema(kind: string): TObject {
  const k = RULE_KINDS[kind]!;
  return Type.Object(
    {
      ...RuleHead.properties,
      for: Type.Number({
        minimum: 0,
        default: 0,
        description: 'the seconds the condition must hold before the alert fires, e.g. 60',
      }),
      ...(k.unit !== undefined
        ? { above: Type.Number({ minimum: 0, description: `the threshold in ${k.unit}, e.g. 120` }) }
        : {}),
      ...k.fields.properties,
    },
    { additionalProperties: false },
  );
}

export function alertsConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  if (file === undefined) return { source: 'defaults', rules: DEFAULT_RULES, webhooks: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      FIELD,
      `names ${file}, which cannot be read: ${describeError(err)}`,
      'point it at a readable YAML or JSON rules file',
    );
  }
  let doc: unknown;
  try {
    doc = (file.endsWith('.json') ? JSON.parse(text) : yamlParser()(text)) ?? {};
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      FIELD,
      `names ${file}, which is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${describeError(err)}`,
      'fix the syntax at the line shown',
    );
  }
  return parseAlertsConfig(doc, file, env);
}

/**
 * The `yaml` package, loaded only when a YAML rules file is read: a JSON file (or none) works in an
 * install without it.
 */
function yamlParser(): (text: string) => unknown {
  try {
    return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  } catch (err) {
    throw new ConfigError(
      FIELD,
      `names a YAML file, but the yaml package cannot be loaded: ${describeError(err)}`,
      'install it (npm install yaml) or write the rules as JSON in a .json file',
    );
  }
}

/** Validates a parsed rules document; `source` names it in errors. */
export function parseAlertsConfig(doc: unknown, source: string, env: NodeJS.ProcessEnv = {}): AlertsConfig {
  const top = check(FileSchema, doc, `${source}:`, 'the file holds `rules:` and `webhooks:` lists only') as {
    rules?: unknown[];
    webhooks?: unknown[];
  };
  const rules = (top.rules ?? []).map((raw, i) => {
    const where = `${source}: rules[${i}]`;
    const head = check(RuleHead, raw, where, 'every rule has a name and a kind', true) as {
      name: string;
      kind: string;
    };
    const at = `${where} "${head.name}"`;
    if (!RULE_KINDS[head.kind]) {
      throw new ConfigError(
        `${at}.kind`,
        `is ${JSON.stringify(head.kind)}`,
        `use one of ${Object.keys(RULE_KINDS).join(', ')}`,
      );
    }
    return check(ruleSchema(head.kind), raw, at, '') as unknown as AlertRule;
  });
  unique(
    rules.map((r) => r.name),
    `${source}: rules`,
  );
  const webhooks = (top.webhooks ?? []).map((raw, i) => {
    const hook = check(WebhookSchema, raw, `${source}: webhooks[${i}]`, '') as unknown as WebhookConfig;
    const at = `${source}: webhooks[${i}] "${hook.name}"`;
    const url = expand(hook.url, env, `${at}.url`);
    if (!/^https?:\/\/[^/]/.test(url)) {
      throw new ConfigError(
        `${at}.url`,
        `is ${JSON.stringify(url)}`,
        'give an http(s) URL, e.g. https://hooks.example.com/tributary',
      );
    }
    return {
      ...hook,
      url,
      headers: Object.fromEntries(
        Object.entries(hook.headers).map(([k, v]) => [k, expand(v, env, `${at}.headers.${k}`)]),
      ),
    };
  });
  unique(
    webhooks.map((w) => w.name),
    `${source}: webhooks`,
  );
  return { source, rules, webhooks };
}

/** Defaults applied, then the first problem thrown with the field and the schema's description. */
function check(
  schema: TObject,
  raw: unknown,
  where: string,
  fix: string,
  headOnly = false,
): Record<string, unknown> {
  const value = typeof raw === 'object' && raw !== null ? Value.Default(schema, structuredClone(raw)) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(where, `is ${JSON.stringify(raw)}, not a map`, fix || 'write it as a YAML map');
  }
  const errors = Value.Errors(schema, value).filter(
    // the head check reads name and kind only; the full schema reports the other fields
    (e) => !(headOnly && e.keyword === 'additionalProperties'),
  );
  const first =
    errors.find((e) => e.keyword === 'additionalProperties') ?? errors.find((e) => e.keyword !== 'boolean');
  if (!first) return value as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') {
    const extra = (first.params as { additionalProperties: string[] }).additionalProperties[0]!;
    const known = Object.keys(schema.properties).join(', ');
    throw new ConfigError(`${where}.${extra}`, 'is not a known field', `remove it or use one of: ${known}`);
  }
  const field =
    first.keyword === 'required'
      ? (first.params as { requiredProperties: string[] }).requiredProperties[0]!
      : first.instancePath.replace(/^\//, '').split('/')[0]!;
  const prop = (schema.properties as Record<string, TSchema & { description?: string }>)[field];
  const got = (value as Record<string, unknown>)[field];
  const message = first.keyword === 'required' ? 'is missing' : `is ${JSON.stringify(got)}: ${first.message}`;
  throw new ConfigError(
    `${where}.${field}`,
    message,
    prop?.description ? `set ${field} to ${prop.description}` : fix,
  );
}

function unique(names: string[], where: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new ConfigError(where, `has two entries named "${name}"`, 'give each a unique name');
    seen.add(name);
  }
}

function expand(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') {
      throw new ConfigError(
        where,
        `uses \${${name}}, which is not set`,
        `set the environment variable ${name}`,
      );
    }
    return v;
  });
}
