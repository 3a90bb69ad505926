import type { TObject, TSchema } from '@sinclair/typebox';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './errors.ts';

/**
 * Reads one component's settings from environment variables with a TypeBox schema:
 * strings are converted to numbers/booleans, defaults applied, and the first invalid field stops
 * the process with its name, what is wrong, and the fix (taken from the field's description).
 */
export function readEnv<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw));
  const first = Value.Errors(schema, converted).First();
  if (first) {
    const field = first.path.replace(/^\//, '').split('/')[0] || '(unknown)';
    const prop = (schema.properties as Record<string, TSchema>)[field];
    const original = env[field];
    const got = original === undefined || original === '' ? 'is not set' : `is ${JSON.stringify(original)}`;
    throw new ConfigError(
      field,
      `${got}: ${first.message}`,
      prop?.description
        ? `set ${field} to ${prop.description}`
        : `set ${field} correctly in your environment or .env`,
    );
  }
  return converted as Static<T>;
}

export const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: def, description });

export const OptionalUrl = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));
