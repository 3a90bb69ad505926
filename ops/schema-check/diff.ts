/**
 * The field-level difference between two versions of an Avro record schema, and the DDL the tables
 * written from that record would need. Pure: no registry, no database (check.ts does the I/O).
 *
 * How fields map to columns (infra/migrations, consumers/bronze/tables.ts, the gold sink): one
 * column per top-level field, same name; `["null", X]` is a nullable column of X's type, anything
 * else NOT NULL. A change that existing rows could not follow (a type that does not widen, a
 * nullable field made required, a field that has no column type) is refused, not planned.
 */
export type AvroSchema = unknown;

export interface FieldType {
  /** readable, e.g. `long (timestamp-millis)`, `enum JobStatus`, `["null", string]` */
  avro: string;
  /** the column type, or null when the field has none (a record, array, map or other union) */
  column: string | null;
  nullable: boolean;
  /** why there is no column type */
  problem?: string;
}

export interface FieldChange {
  field: string;
  change: 'added' | 'removed' | 'type' | 'nullability' | 'default' | 'doc';
  from: string | null;
  to: string | null;
}

export interface TablePlan {
  table: string;
  /** statements of the Up migration, in order */
  up: string[];
  /** the statements that undo them, in order */
  down: string[];
}

export interface Refusal {
  field: string;
  reason: string;
}

export interface SchemaDiff {
  changes: FieldChange[];
  plans: TablePlan[];
  refused: Refusal[];
  /** what else a change needs (regenerated types, the writers' column lists) */
  notes: string[];
}

interface Field {
  name: string;
  type: unknown;
  default?: unknown;
  doc?: string;
}

const LOGICAL: Record<string, string> = {
  'string/uuid': 'uuid',
  'long/timestamp-millis': 'timestamptz',
  'long/timestamp-micros': 'timestamptz',
  'int/date': 'date',
};
const PRIMITIVE: Record<string, string> = {
  boolean: 'boolean',
  int: 'integer',
  long: 'bigint',
  float: 'real',
  double: 'double precision',
  bytes: 'bytea',
  string: 'text',
};
/** Changes of a column type that keep every stored value (Avro's promotions with an exact cast). */
const WIDENINGS = new Set([
  'integer>bigint',
  'integer>double precision',
  'bigint>double precision',
  'real>double precision',
]);
/** Columns every bronze table has besides the record's (consumers/bronze/tables.ts LINEAGE_COLUMNS). */
const RESERVED = new Set([
  'topic',
  'partition',
  'offset',
  'kafka_timestamp',
  'schema_id',
  'source',
  'source_request_id',
  'fetched_at',
  'ingested_at',
  'source_partition',
  'source_offset',
  'written_at',
]);
const SQL_KEYWORDS = new Set([
  'offset',
  'order',
  'user',
  'group',
  'table',
  'select',
  'from',
  'where',
  'limit',
  'default',
  'check',
  'column',
  'primary',
  'references',
  'end',
  'all',
  'and',
  'or',
  'not',
]);

export function quoteColumn(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !SQL_KEYWORDS.has(name)
    ? name
    : `"${name.replaceAll('"', '""')}"`;
}

/** The named types (enum, fixed, record) a schema defines, by full and short name. */
function namedTypes(schema: unknown, ns = '', out = new Map<string, Record<string, unknown>>()) {
  if (Array.isArray(schema)) {
    for (const s of schema) namedTypes(s, ns, out);
  } else if (schema && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    const space = typeof s.namespace === 'string' ? s.namespace : ns;
    if (typeof s.name === 'string' && ['enum', 'fixed', 'record'].includes(String(s.type))) {
      const full = s.name.includes('.') ? s.name : space ? `${space}.${s.name}` : s.name;
      out.set(full, s);
      out.set(s.name.split('.').at(-1)!, s);
    }
    if (Array.isArray(s.fields)) for (const f of s.fields as Field[]) namedTypes(f.type, space, out);
    if (s.items) namedTypes(s.items, space, out);
    if (s.values) namedTypes(s.values, space, out);
  }
  return out;
}

export function fieldType(type: unknown, named: Map<string, Record<string, unknown>>): FieldType {
  if (Array.isArray(type)) {
    const others = type.filter((t) => t !== 'null');
    const nullable = others.length < type.length;
    if (others.length === 1) {
      const inner = fieldType(others[0], named);
      return {
        ...inner,
        avro: `[${type.map((t) => (t === 'null' ? 'null' : fieldType(t, named).avro)).join(', ')}]`,
        nullable,
      };
    }
    return {
      avro: JSON.stringify(type),
      column: null,
      nullable,
      problem: 'a union of several types has no column type',
    };
  }
  if (typeof type === 'string') {
    if (PRIMITIVE[type]) return { avro: type, column: PRIMITIVE[type], nullable: false };
    const ref = named.get(type);
    if (ref) return fieldType(ref, named);
    return { avro: type, column: null, nullable: false, problem: `unknown type ${type}` };
  }
  const t = (type ?? {}) as Record<string, unknown>;
  const base = String(t.type);
  if (typeof t.logicalType === 'string') {
    const column = LOGICAL[`${base}/${t.logicalType}`] ?? PRIMITIVE[base] ?? null;
    return { avro: `${base} (${t.logicalType})`, column, nullable: false };
  }
  if (base === 'enum') return { avro: `enum ${t.name}`, column: 'text', nullable: false };
  if (base === 'fixed') return { avro: `fixed ${t.name}`, column: 'bytea', nullable: false };
  if (PRIMITIVE[base]) return { avro: base, column: PRIMITIVE[base], nullable: false };
  return {
    avro: base,
    column: null,
    nullable: false,
    problem: `a ${base} field has no column type (tables hold flat fields)`,
  };
}

function fieldsOf(schema: unknown): Field[] {
  const s = schema as { type?: unknown; fields?: unknown };
  if (s?.type !== 'record' || !Array.isArray(s.fields)) {
    throw new Error('the schema is not an Avro record with fields');
  }
  return s.fields as Field[];
}

/**
 * The diff of `next` against `latest`, and the plan for `tables` (the tables written from this
 * record; empty for a subject no table is written from).
 */
export function diffSchemas(latest: AvroSchema, next: AvroSchema, tables: readonly string[]): SchemaDiff {
  const before = new Map(fieldsOf(latest).map((f) => [f.name, f]));
  const after = new Map(fieldsOf(next).map((f) => [f.name, f]));
  const namedBefore = namedTypes(latest);
  const namedAfter = namedTypes(next);
  const changes: FieldChange[] = [];
  const refused: Refusal[] = [];
  const up: Array<(table: string) => string> = [];
  const down: Array<(table: string) => string> = [];
  const notes: string[] = [];

  for (const [name, f] of after) {
    const t = fieldType(f.type, namedAfter);
    const old = before.get(name);
    const col = quoteColumn(name);
    if (!old) {
      changes.push({ field: name, change: 'added', from: null, to: describe(t, f) });
      if (t.column === null) refused.push({ field: name, reason: t.problem ?? 'no column type' });
      else if (RESERVED.has(name))
        refused.push({
          field: name,
          reason: `${name} is a lineage column of the tables; name the field otherwise`,
        });
      else {
        // nullable whatever the schema says: the rows already stored have no value for it
        up.push((tb) => `ALTER TABLE ${tb} ADD COLUMN IF NOT EXISTS ${col} ${t.column};`);
        down.unshift((tb) => `ALTER TABLE ${tb} DROP COLUMN IF EXISTS ${col};`);
        if (!t.nullable)
          notes.push(
            `${name} is required in the schema but added as a nullable column: rows stored before it have no value`,
          );
      }
      continue;
    }
    const o = fieldType(old.type, namedBefore);
    if (o.column !== t.column) {
      changes.push({ field: name, change: 'type', from: o.avro, to: t.avro });
      if (o.column !== null && t.column !== null && WIDENINGS.has(`${o.column}>${t.column}`)) {
        up.push((tb) => `ALTER TABLE ${tb} ALTER COLUMN ${col} TYPE ${t.column};`);
        down.unshift(
          (tb) => `ALTER TABLE ${tb} ALTER COLUMN ${col} TYPE ${o.column} USING ${col}::${o.column};`,
        );
        notes.push(`${name}: ALTER COLUMN TYPE rewrites the table (it holds a lock for the whole rewrite)`);
      } else {
        refused.push({
          field: name,
          reason: `type change ${o.avro} → ${t.avro}: the stored ${o.column ?? '(no column)'} values cannot become ${t.column ?? '(no column)'}; add a new field instead`,
        });
      }
    } else if (o.avro !== t.avro) {
      changes.push({ field: name, change: 'type', from: o.avro, to: t.avro });
    }
    if (o.nullable !== t.nullable) {
      changes.push({
        field: name,
        change: 'nullability',
        from: o.nullable ? 'nullable' : 'required',
        to: t.nullable ? 'nullable' : 'required',
      });
      if (t.nullable) {
        up.push((tb) => `ALTER TABLE ${tb} ALTER COLUMN ${col} DROP NOT NULL;`);
        down.unshift((tb) => `ALTER TABLE ${tb} ALTER COLUMN ${col} SET NOT NULL;`);
      } else {
        refused.push({ field: name, reason: 'a nullable field made required: stored rows may hold nulls' });
      }
    }
    if (JSON.stringify(old.default) !== JSON.stringify(f.default)) {
      changes.push({ field: name, change: 'default', from: json(old.default), to: json(f.default) });
    }
    if ((old.doc ?? '') !== (f.doc ?? ''))
      changes.push({ field: name, change: 'doc', from: old.doc ?? null, to: f.doc ?? null });
  }
  for (const [name, f] of before) {
    if (after.has(name)) continue;
    const o = fieldType(f.type, namedBefore);
    changes.push({ field: name, change: 'removed', from: describe(o, f), to: null });
    // the column stays for the rows that have it; new rows have no value
    if (o.column !== null && !o.nullable) {
      up.push((tb) => `ALTER TABLE ${tb} ALTER COLUMN ${quoteColumn(name)} DROP NOT NULL;`);
      down.unshift((tb) => `ALTER TABLE ${tb} ALTER COLUMN ${quoteColumn(name)} SET NOT NULL;`);
    }
  }
  if (changes.some((c) => ['added', 'removed', 'type', 'nullability'].includes(c.change))) {
    notes.push(
      'then: copy the schema into schemas/, run `npm run schemas:generate`, and add or remove the column in its writer (consumers/bronze/tables.ts, consumers/gold-sinks/postgres-sink.ts)',
    );
  }
  const plans =
    refused.length > 0 || up.length === 0
      ? []
      : tables.map((table) => ({ table, up: up.map((s) => s(table)), down: down.map((s) => s(table)) }));
  return { changes, plans, refused, notes };
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

function describe(t: FieldType, f: Field): string {
  return f.default === undefined ? t.avro : `${t.avro} default ${JSON.stringify(f.default)}`;
}

/** A node-pg-migrate SQL migration of the plans. */
export function migrationSql(plans: readonly TablePlan[], title: string): string {
  return [
    '-- Up Migration',
    `-- ${title}`,
    ...plans.flatMap((p) => p.up),
    '',
    '-- Down Migration',
    ...plans
      .slice()
      .reverse()
      .flatMap((p) => p.down),
    '',
  ].join('\n');
}
