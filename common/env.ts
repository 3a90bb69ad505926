import type { TObject, TSchemaOptions } from 'typebox';
import { type Static, Type } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Value } from 'typebox/value';
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
  const errors = Value.Errors(schema, converted);
  const [first] = errors;
  if (first) {
    const field = errorField(first);
    const message = describeErrors(errors.filter((e) => errorField(e) === field));
    const prop = (schema.properties as Record<string, TSchemaOptions>)[field];
    const original = env[field];
    const got = original === undefined || original === '' ? 'is not set' : `is ${JSON.stringify(original)}`;
    throw new ConfigError(
      field,
      `${got}: ${message}`,
      prop?.description
        ? `set ${field} to ${prop.description}`
        : `set ${field} correctly in your environment or .env`,
    );
  }
  return converted as Static<T>;
}

/** The top-level property an error is about (a missing required one is reported on its parent). */
function errorField(error: TLocalizedValidationError): string {
  const fromPath = error.instancePath.replace(/^\//, '').split('/')[0];
  if (fromPath) return fromPath;
  if (error.keyword === 'required') return error.params.requiredProperties[0] ?? '(unknown)';
  return '(unknown)';
}

/** One line for a field's errors: a union of literals reads "must be one of …", not one error per literal. */
function describeErrors(errors: TLocalizedValidationError[]): string {
  const allowed = errors.flatMap((e) =>
    e.keyword === 'const' ? [JSON.stringify(e.params.allowedValue)] : [],
  );
  if (allowed.length > 1) return `must be one of ${allowed.join(', ')}`;
  return errors[0]?.message ?? 'is invalid';
}

export const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: def, description });

export const OptionalUrl = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));
