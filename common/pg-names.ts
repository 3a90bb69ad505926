import pg from 'pg';

/**
 * `schema.name` from configuration or a constant → its two parts. A table name is the one SQL
 * identifier that cannot be a parameter, so it is always split and quoted here, never interpolated.
 */
export function splitQualified(qualifiedName: string): [schema: string, name: string] {
  const parts = qualifiedName.split('.');
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw new Error(`${JSON.stringify(qualifiedName)} is not a schema-qualified name (schema.name)`);
  }
  return [parts[0]!, parts[1]!];
}

/** `schema.name` (or its two parts) → `"schema"."name"`, each part quoted with pg.escapeIdentifier. */
export function quoteQualified(qualifiedName: string): string;
export function quoteQualified(schema: string, name: string): string;
export function quoteQualified(first: string, second?: string): string {
  const [schema, name] = second === undefined ? splitQualified(first) : [first, second];
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
}
