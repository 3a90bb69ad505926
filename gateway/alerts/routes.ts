import type { FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import type { AlertEngine } from './engine.ts';
import { AlertsSnapshot } from './schemas.ts';

/**
 * GET /api/alerts, registered by the API plugin (routes/api.ts) so it shares its token check and
 * rate limit. Typed with a plain FastifyInstance: the reply's shape is enforced by the response
 * schema, the route reads no input.
 */
export function alertRoutes(
  // biome-ignore lint/suspicious/noExplicitAny: any type provider: the route reads no input
  app: FastifyInstance<any, any, any, any, any>,
  opts: { alerts: AlertEngine; security?: Array<Record<string, string[]>>; errors: Record<number, TSchema> },
): void {
  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        security: opts.security,
        summary:
          'Alert rules, the alerts pending and firing now, and the last 100 that fired (with their resolution)',
        response: { 200: AlertsSnapshot, ...opts.errors },
      },
    },
    async () => opts.alerts.snapshot(),
  );
}
