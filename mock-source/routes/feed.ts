import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { CursorError, decodeCursor, encodeCursor } from '../cursor.ts';
import { ErrorBody, IdParams, type ItemSchemaId, ListQuery, listResponse } from '../schemas.ts';
import type { FeedPosition } from '../store.ts';
import { bodyJson, type FeedReader } from '../world.ts';

export interface FeedRoutesOptions {
  /** the URL segment, e.g. 'workspaces' */
  path: string;
  /** for messages, e.g. 'workspace' */
  noun: string;
  store: FeedReader;
  /** the documented item schema */
  itemId: ItemSchemaId;
}

/**
 * One entity's endpoints: the change feed of its versions (`GET /<path>`) and its latest version
 * (`GET /<path>/{id}`). See README.md for the paging contract.
 */
export const feedRoutes: FastifyPluginAsyncTypebox<FeedRoutesOptions> = async (app, opts) => {
  const { store, path, noun } = opts;
  const tags = [path];
  // anonymous on loopback; `Bearer <TRIBUTARY_MOCK_SOURCE_API_TOKEN>` when one is configured
  const security: Array<Record<string, string[]>> = [{}, { apiToken: [] }];

  app.get(
    `/${path}`,
    {
      schema: {
        summary: `The change feed of ${noun} versions, in (updated_at, id) order`,
        tags,
        security,
        querystring: ListQuery,
        response: { 200: listResponse(opts.itemId), 400: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const { cursor, limit } = request.query;
      let updatedSince =
        request.query.updated_since === undefined ? undefined : Date.parse(request.query.updated_since);
      let after: FeedPosition | undefined;
      if (cursor !== undefined) {
        try {
          const decoded = decodeCursor(cursor);
          after = { updatedAt: decoded.updatedAt, id: decoded.id };
          // both are lower bounds: an updated_since sent along with a cursor narrows the walk further
          updatedSince = maxDefined(updatedSince, decoded.updatedSince);
        } catch (err) {
          if (!(err instanceof CursorError)) throw err;
          return reply.code(400).send({ error: 'Bad Request', message: `querystring/cursor ${err.message}` });
        }
      }
      const page = await store.page({ after, updatedSince, limit });
      const last = page.items.at(-1);
      const next =
        page.more && last ? encodeCursor({ updatedAt: last.updatedAt, id: last.id, updatedSince }) : null;
      // the versions' JSON as stored, joined: nothing is parsed or re-serialized on the way out
      return sendJson(
        reply,
        `{"data":[${page.items.map(bodyJson).join(',')}],"next_cursor":${JSON.stringify(next)}}`,
      );
    },
  );

  app.get(
    `/${path}/:id`,
    {
      schema: {
        summary: `The latest version of one ${noun}`,
        tags,
        security,
        params: IdParams,
        response: { 200: Type.Ref(opts.itemId), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const latest = await store.latest(request.params.id);
      if (!latest) {
        return reply
          .code(404)
          .send({ error: 'Not Found', message: `no ${noun} with id ${request.params.id}` });
      }
      return sendJson(reply, bodyJson(latest));
    },
  );
};

/** JSON text sent as it is (a string with a JSON content type is not serialized again) */
function sendJson(reply: FastifyReply, json: string) {
  return reply.type('application/json; charset=utf-8').send(json as never);
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
