import { type Static, Type } from 'typebox';

/** Settings every Tributary process reads, whatever roles it runs. */
export const ProcessEnv = Type.Object({
  TRIBUTARY_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'fatal, error, warn, info, debug or trace' },
  ),
  TRIBUTARY_OPS_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description:
      "the address of the process's /healthz, /readyz and /metrics (non-loopback needs TRIBUTARY_OPS_TOKEN)",
  }),
  TRIBUTARY_OPS_PORT: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 65535,
    description: 'the port of /healthz, /readyz and /metrics (0 picks a free one, logged at start)',
  }),
  TRIBUTARY_OPS_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'a bearer token of 16+ characters for /metrics' }),
  ),
});
export type ProcessEnv = Static<typeof ProcessEnv>;
