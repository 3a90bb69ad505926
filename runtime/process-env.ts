import { type Static, Type } from 'typebox';
import { ConfigError } from '../common/errors.ts';
import { InstanceEnv } from '../common/instance.ts';

/** Settings every Tributary process reads, whatever roles it runs. */
export const ProcessEnv = Type.Object({
  ...InstanceEnv.properties,
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
  TRIBUTARY_STALL_AFTER_MS: Type.Integer({
    default: 60_000,
    minimum: 1000,
    maximum: 3_600_000,
    description:
      'how long (ms, 1000-3600000) a role may go without committing while input waits, or stay out of its consumer group, before /readyz fails and it reports itself stalled',
  }),
  TRIBUTARY_STALL_RESTART_MS: Type.Integer({
    default: 180_000,
    minimum: 0,
    maximum: 86_400_000,
    description:
      'how long (ms) a role may stay stalled before it restarts itself (the role inside a multi-role process; a one-role process exits with code 3 for its supervisor); at least TRIBUTARY_STALL_AFTER_MS, 0 never restarts',
  }),
});
export type ProcessEnv = Static<typeof ProcessEnv>;

export interface StallSettings {
  afterMs: number;
  /** 0: never restart */
  restartMs: number;
}

export function stallSettings(e: ProcessEnv): StallSettings {
  const restartMs = e.TRIBUTARY_STALL_RESTART_MS;
  if (restartMs !== 0 && restartMs < e.TRIBUTARY_STALL_AFTER_MS) {
    throw new ConfigError(
      'TRIBUTARY_STALL_RESTART_MS',
      `is ${restartMs}: less than TRIBUTARY_STALL_AFTER_MS (${e.TRIBUTARY_STALL_AFTER_MS})`,
      'raise it (a role restarts only after it was reported stalled), lower TRIBUTARY_STALL_AFTER_MS, or set it to 0 to never restart',
    );
  }
  return { afterMs: e.TRIBUTARY_STALL_AFTER_MS, restartMs };
}
