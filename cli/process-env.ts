import { Type } from '@sinclair/typebox';

/** Settings every Tributary process reads, whatever roles it runs. */
export const ProcessEnv = Type.Object({
  TRIBUTARY_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'fatal, error, warn, info, debug or trace' },
  ),
});
