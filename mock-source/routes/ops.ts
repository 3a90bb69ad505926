import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { RoleMetrics } from '../../common/metrics.ts';

/** Liveness and Prometheus metrics: outside /v1, so neither the token bucket nor faults apply. */
export const opsRoutes: FastifyPluginAsyncTypebox<{ metrics: RoleMetrics }> = async (app, opts) => {
  const { registry } = opts.metrics;
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get('/metrics', { schema: { tags: ['ops'], produces: ['text/plain'] } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
};
