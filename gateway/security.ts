import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { basicPasswordMatches, bearerMatches, isLoopbackHost } from '../common/ops-server.ts';

/**
 * The gateway's browser-facing defences, in one place:
 *
 * - **Host check (DNS rebinding).** Without a token the gateway trusts whoever reaches it, which on
 *   loopback means this machine. A web page can still reach it by pointing its own domain name at
 *   127.0.0.1 (DNS rebinding); the browser then sends that name as `Host`. So, with no token, only
 *   loopback names (localhost, 127.x, ::1) and `TRIBUTARY_GATEWAY_ALLOWED_HOSTS` are served. With a
 *   token the check is off: the token, which the page does not have, protects the data.
 * - **Security headers** on every answer: a strict CSP (scripts, styles and connections from this
 *   origin only; no framing), nosniff, no referrer. The dashboard keeps the token in sessionStorage,
 *   which an injected script or a framing page must not reach.
 * - **The API docs (/docs) need the token** when one is set: Bearer, or Basic with the token as password, which a
 *   browser asks for itself when it gets the `WWW-Authenticate: Basic` challenge.
 */
export interface HostPolicy {
  /** true: every Host is served (a token is set, or the allowlist holds `*`) */
  any: boolean;
  /** allowlisted host names, lower case, without port */
  names: Set<string>;
}

export function hostPolicy(opts: { token?: string; allowedHosts: string[] }): HostPolicy {
  const names = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
  return { any: opts.token !== undefined || names.has('*'), names };
}

/** The host name of a Host header, without port or IPv6 brackets; undefined when unparseable. */
export function hostName(header: string): string | undefined {
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined; // not a host: refused below
  }
}

export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  if (policy.any) return true;
  // HTTP/1.0 clients may omit it; browsers always send it, so no rebinding page can
  if (header === undefined) return true;
  const name = hostName(header);
  return name !== undefined && (isLoopbackHost(name) || policy.names.has(name));
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  // 'self' covers the same-origin WebSocket of Socket.IO
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  // for browsers that predate frame-ancestors
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Adds the security headers an answer does not set itself. */
export function addSecurityHeaders(headers: OutgoingHttpHeaders | Record<string, unknown>): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (headers[name] === undefined) headers[name] = value;
  }
}

/** The Host check and the headers, for every route of the app (Socket.IO applies its own, see socket.ts). */
export function installSecurity(app: FastifyInstance, policy: HostPolicy): void {
  app.addHook('onRequest', async (req, reply) => {
    if (hostAllowed(req.headers.host, policy)) return;
    return reply.code(403).send({
      statusCode: 403,
      error: 'Forbidden',
      message:
        `host ${JSON.stringify(req.headers.host)} is not served: open the gateway as localhost or 127.0.0.1, ` +
        'or list the name in TRIBUTARY_GATEWAY_ALLOWED_HOSTS (or set TRIBUTARY_GATEWAY_TOKEN)',
    });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
    return payload;
  });
}

/** The `onRequest` hook of /docs when a token is set. */
export function docsGuard(token: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization;
    if (bearerMatches(auth, token) || basicPasswordMatches(auth, token)) return;
    return reply
      .code(401)
      .header(
        'www-authenticate',
        'Basic realm="Tributary API docs (password: the gateway token)", charset="UTF-8"',
      )
      .send({ statusCode: 401, error: 'Unauthorized', message: 'the API docs need the gateway token' });
  };
}
