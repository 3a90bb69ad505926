import { RemoteError } from '../common/errors.ts';
import type { InfraOptions } from '../runtime/endpoints.ts';

/**
 * Schema subjects and their versions, from the registry's Confluent REST API (`GET /subjects`,
 * `GET /subjects/{subject}/versions`). Plain fetch: @kafkajs/confluent-schema-registry has no call
 * that lists subjects.
 */
export interface SubjectVersions {
  subject: string;
  versions: number[];
}

export async function listSubjects(
  registry: InfraOptions['registry'],
  opts: { concurrency?: number; fetchImpl?: typeof fetch } = {},
): Promise<SubjectVersions[]> {
  const get = requester(registry, opts.fetchImpl ?? fetch);
  const subjects = ((await get('/subjects')) as string[]).slice().sort();
  const out: SubjectVersions[] = [];
  const concurrency = opts.concurrency ?? 8;
  for (let i = 0; i < subjects.length; i += concurrency) {
    const chunk = subjects.slice(i, i + concurrency);
    const versions = await Promise.all(
      chunk.map(async (s) => (await get(`/subjects/${encodeURIComponent(s)}/versions`)) as number[]),
    );
    chunk.forEach((subject, j) => {
      out.push({ subject, versions: versions[j]!.slice().sort((a, b) => a - b) });
    });
  }
  return out;
}

/** Deletes a subject (soft, then permanently); a subject that does not exist is not an error. */
export async function deleteSubject(
  registry: InfraOptions['registry'],
  subject: string,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const del = requester(registry, fetchImpl, 'DELETE');
  const path = `/subjects/${encodeURIComponent(subject)}`;
  await del(path);
  await del(`${path}?permanent=true`);
}

function requester(registry: InfraOptions['registry'], fetchImpl: typeof fetch, method = 'GET') {
  const headers: Record<string, string> = {
    accept: 'application/vnd.schemaregistry.v1+json, application/json',
  };
  if (registry.username !== undefined) {
    const token = Buffer.from(`${registry.username}:${registry.password ?? ''}`).toString('base64');
    headers.authorization = `Basic ${token}`;
  }
  return async (path: string): Promise<unknown> => {
    const url = `${registry.url.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetchImpl(url, { method, headers, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new RemoteError(
        `schema registry: ${method} ${url} failed: ${(err as Error).message}`,
        undefined,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    if (method === 'DELETE' && res.status === 404) return undefined;
    if (!res.ok) {
      throw new RemoteError(`schema registry: ${method} ${url} answered ${res.status}`, res.status, {
        retriable: res.status >= 500,
      });
    }
    return res.json();
  };
}
