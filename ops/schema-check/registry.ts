import { RemoteError } from '../../common/errors.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';

/**
 * The registry calls of `tributary schema check` over the Confluent REST API (which Apicurio's
 * ccompat serves): the subject's latest version and effective compatibility level, the
 * compatibility test, and registration. Confluent answers `?verbose=true` with the reasons of an
 * incompatibility; Apicurio 3 answers only `is_compatible`, so for it the reasons come from its own
 * API's dry run of a new version (`POST …/versions?dryRun=true`), which checks the same rule and
 * registers nothing.
 */
export interface LatestVersion {
  version: number;
  id: number;
  schema: string;
}

export interface Compatibility {
  compatible: boolean;
  messages: string[];
}

type Registry = InfraOptions['registry'];
const JSON_TYPE = 'application/vnd.schemaregistry.v1+json';

async function call(
  registry: Registry,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { accept: `${JSON_TYPE}, application/json` };
  if (body !== undefined)
    headers['content-type'] = url.includes('/apis/registry/') ? 'application/json' : JSON_TYPE;
  if (registry.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${registry.username}:${registry.password ?? ''}`).toString('base64')}`;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new RemoteError(`schema registry: ${method} ${url} failed: ${(err as Error).message}`, undefined, {
      retriable: true,
      cause: err,
    });
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = { message: text }; // a proxy's HTML error page: shown as it is
  }
  return { status: res.status, json };
}

const base = (r: Registry) => r.url.replace(/\/+$/, '');
const subjectPath = (r: Registry, subject: string) => `${base(r)}/subjects/${encodeURIComponent(subject)}`;

function fail(what: string, status: number, json: unknown): never {
  const message = (json as { message?: string; detail?: string } | null)?.message ?? JSON.stringify(json);
  throw new RemoteError(`schema registry: ${what} answered ${status}: ${message}`, status, {
    retriable: status >= 500,
  });
}

/** The latest version of the subject, or null when the subject does not exist. */
export async function latestVersion(registry: Registry, subject: string): Promise<LatestVersion | null> {
  const { status, json } = await call(registry, 'GET', `${subjectPath(registry, subject)}/versions/latest`);
  if (status === 404) return null;
  if (status !== 200) fail(`GET ${subject}/versions/latest`, status, json);
  const v = json as LatestVersion;
  return { version: v.version, id: v.id, schema: v.schema };
}

/** The subject's compatibility level, its own or else the global one. */
export async function compatibilityLevel(registry: Registry, subject: string): Promise<string> {
  const own = await call(
    registry,
    'GET',
    `${base(registry)}/config/${encodeURIComponent(subject)}?defaultToGlobal=true`,
  );
  if (own.status === 200) return (own.json as { compatibilityLevel: string }).compatibilityLevel;
  const global = await call(registry, 'GET', `${base(registry)}/config`);
  if (global.status !== 200) fail('GET /config', global.status, global.json);
  return (global.json as { compatibilityLevel: string }).compatibilityLevel;
}

export async function testCompatibility(
  registry: Registry,
  subject: string,
  schema: string,
): Promise<Compatibility> {
  const { status, json } = await call(
    registry,
    'POST',
    `${base(registry)}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
    { schemaType: 'AVRO', schema },
  );
  if (status !== 200) fail(`compatibility test of ${subject}`, status, json);
  const answer = json as { is_compatible: boolean; messages?: string[] };
  const messages = answer.messages ?? [];
  if (!answer.is_compatible && messages.length === 0)
    messages.push(...(await apicurioCauses(registry, subject, schema)));
  return { compatible: answer.is_compatible, messages };
}

/** Apicurio's reasons, from a dry run of a new version (nothing is registered). */
async function apicurioCauses(registry: Registry, subject: string, schema: string): Promise<string[]> {
  const m = /^(.*)\/apis\/ccompat\/v\d+$/.exec(base(registry));
  if (!m) return [];
  const { status, json } = await call(
    registry,
    'POST',
    `${m[1]}/apis/registry/v3/groups/default/artifacts/${encodeURIComponent(subject)}/versions?dryRun=true`,
    { content: { content: schema, contentType: 'application/json' } },
  );
  if (status !== 409) return [];
  const causes = (json as { causes?: Array<{ description: string; context?: string }> }).causes ?? [];
  return causes.map((c) => (c.context ? `${c.description} at ${c.context}` : c.description));
}

/** Registers the schema under the subject and returns its id (an existing identical schema: its id). */
export async function registerSchema(registry: Registry, subject: string, schema: string): Promise<number> {
  const { status, json } = await call(registry, 'POST', `${subjectPath(registry, subject)}/versions`, {
    schemaType: 'AVRO',
    schema,
  });
  if (status !== 200) fail(`registering a version of ${subject}`, status, json);
  return (json as { id: number }).id;
}
