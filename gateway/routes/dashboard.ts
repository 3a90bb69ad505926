import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const BUILD_COMMAND = 'npx vite build --config dashboard/vite.config.ts';

/**
 * The built dashboard (dashboard/dist) at `/`. When it has not been built, `/` says so and how,
 * instead of a bare 404: the API and the socket work either way.
 */
export const dashboardRoutes: FastifyPluginAsync<{ dir: string }> = async (app, opts) => {
  if (fs.existsSync(path.join(opts.dir, 'index.html'))) {
    await app.register(fastifyStatic, { root: opts.dir, prefix: '/', index: 'index.html', wildcard: false });
    return;
  }
  app.get('/', async (_req, reply) =>
    reply
      .code(503)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><title>Tributary</title><h1>The dashboard is not built</h1>` +
          `<p>Run <code>${BUILD_COMMAND}</code> and reload. ` +
          `The API (<a href="/docs">/docs</a>) and the live socket work without it.</p>`,
      ),
  );
};
