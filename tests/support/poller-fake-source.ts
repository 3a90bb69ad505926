import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';

/**
 * A tiny stand-in for mock-source/ with the same change-feed contract, for the pollers' unit tests:
 * versions are appended by the test, and the next answers can be scripted (429, 5xx, truncated or
 * slow bodies) so each failure path is hit exactly when wanted.
 */
export type Fault =
  | { status: 429; retryAfter?: string }
  | { status: 400 | 401 | 404 | 500 | 503 }
  | { body: string }
  | { delayMs: number };

export interface FakeVersion {
  id: string;
  updated_at: string;
  [field: string]: unknown;
}

export interface FakeSource {
  url: string;
  versions: Record<string, FakeVersion[]>;
  /** answers for the next requests, in order; then the feed answers normally */
  faults: Fault[];
  requests: Array<{ url: string; authorization?: string; at: number }>;
  close(): Promise<void>;
}

const encode = (v: FakeVersion) => Buffer.from(`${v.updated_at}|${v.id}`).toString('base64url');
const decode = (cursor: string) => Buffer.from(cursor, 'base64url').toString().split('|') as [string, string];
const after = (v: FakeVersion, at: string, id: string) =>
  Date.parse(v.updated_at) > Date.parse(at) || (v.updated_at === at && v.id > id);

export async function startFakeSource(): Promise<FakeSource> {
  const app = Fastify();
  const versions: Record<string, FakeVersion[]> = { workspaces: [], 'enrichment-jobs': [] };
  const faults: Fault[] = [];
  const requests: FakeSource['requests'] = [];
  let n = 0;
  app.get<{ Params: { api: string }; Querystring: Record<string, string | undefined> }>(
    '/v1/:api',
    async (req, reply) => {
      requests.push({ url: req.url, authorization: req.headers.authorization, at: Date.now() });
      reply.header('x-request-id', `req-${++n}`);
      const fault = faults.shift();
      if (fault && 'delayMs' in fault) await delay(fault.delayMs);
      else if (fault && 'status' in fault) {
        if (fault.status === 429 && fault.retryAfter !== undefined)
          reply.header('retry-after', fault.retryAfter);
        return reply.code(fault.status).send({ error: `scripted ${fault.status}` });
      } else if (fault) return reply.type('application/json').send(fault.body);
      const feed = [...(versions[req.params.api] ?? [])].sort((a, b) =>
        a.updated_at === b.updated_at
          ? a.id.localeCompare(b.id)
          : Date.parse(a.updated_at) - Date.parse(b.updated_at),
      );
      const { cursor, updated_since, limit } = req.query;
      const [at, id] = cursor ? decode(cursor) : [undefined, undefined];
      const rest = feed.filter(
        (v) =>
          (updated_since === undefined || Date.parse(v.updated_at) > Date.parse(updated_since)) &&
          (at === undefined || after(v, at, id!)),
      );
      const page = rest.slice(0, Number(limit ?? 100));
      const more = rest.length > page.length;
      return { data: page, next_cursor: more ? encode(page.at(-1)!) : null };
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, versions, faults, requests, close: () => app.close() };
}
