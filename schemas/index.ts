import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

/**
 * Access to the Avro schemas in this folder (the single source of truth for record types; the
 * TypeScript types in generated/types.ts are generated from them). Files are read on first use.
 */
export const SCHEMA_NAMES = ['workspace', 'enrichment-job', 'enrichment-job-gold'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

const cache = new Map<SchemaName, { json: avro.Schema; type: avro.Type }>();

function load(name: SchemaName) {
  let entry = cache.get(name);
  if (!entry) {
    const file = fileURLToPath(new URL(`./${name}.avsc`, import.meta.url));
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as avro.Schema;
    entry = { json, type: avro.Type.forSchema(json) };
    cache.set(name, entry);
  }
  return entry;
}

/** The schema as JSON text, as it is registered in the schema registry. */
export function schemaText(name: SchemaName): string {
  return JSON.stringify(load(name).json);
}

export function avroType(name: SchemaName): avro.Type {
  return load(name).type;
}

/**
 * Why a value does not fit its schema: one message per bad field (empty when it fits). Used to send
 * invalid records to a dead-letter topic with a reason instead of failing the whole batch.
 */
export function schemaViolations(name: SchemaName, value: unknown): string[] {
  const problems: string[] = [];
  avroType(name).isValid(value, {
    errorHook: (path, val, type) => {
      problems.push(
        `${path.join('.') || '(record)'}: ${JSON.stringify(val) ?? 'undefined'} is not a valid ${typeName(type)}`,
      );
    },
  });
  return problems;
}

function typeName(type: avro.Type): string {
  if (type.typeName === 'enum') return `enum value (${(type as avro.types.EnumType).symbols.join(', ')})`;
  if (type.typeName === 'union:unwrapped' || type.typeName === 'union:wrapped') {
    return (type as avro.types.UnwrappedUnionType).types.map(typeName).join(' or ');
  }
  return type.typeName;
}
