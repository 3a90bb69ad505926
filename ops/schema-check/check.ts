import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../common/errors.ts';
import { BRONZE_TABLES } from '../../consumers/bronze/tables.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { avroType, SCHEMA_NAMES, type SchemaName } from '../../schemas/index.ts';
import { diffSchemas, type FieldChange, migrationSql, type Refusal, type TablePlan } from './diff.ts';
import { compatibilityLevel, latestVersion, registerSchema, testCompatibility } from './registry.ts';

/**
 * `tributary schema check <file.avsc>`: what registering a new version of a record schema would do,
 * without doing it — the registry's verdict (and its reasons), the field-level diff against the
 * latest version, and the migration of the tables written from that record. With `apply`, an
 * accepted change is registered and its migration written to infra/migrations (applied by the next
 * `infra up` / `start`).
 */
export interface SchemaCheckReport {
  file: string;
  /** the record's full name */
  record: string;
  subject: string;
  latest: { version: number; id: number } | null;
  compatibilityLevel: string;
  registry: { compatible: boolean; messages: string[] };
  changes: FieldChange[];
  /** the tables written from this record (none for a record the pipeline does not store) */
  tables: string[];
  plans: TablePlan[];
  refused: Refusal[];
  notes: string[];
  /** the migration file's content, when there is something to migrate */
  migration: string | null;
  /** the registry accepts it and no table change is refused */
  accepted: boolean;
  applied: { schemaId: number; migrationFile: string | null } | null;
}

export interface SchemaCheckOptions {
  file: string;
  subject?: string;
  apply: boolean;
  migrationsDir: string;
  topics: Record<SchemaName, string>;
  /** the topology's gold table (contracts/topology.ts), the table of enrichment-job-gold */
  goldTable: string;
}

/** The pipeline record a full name is, if any. */
function knownSchema(fullName: string): SchemaName | undefined {
  return SCHEMA_NAMES.find((n) => avroType(n).name === fullName);
}

function tablesOf(name: SchemaName | undefined, goldTable: string): string[] {
  if (name === undefined) return [];
  if (name === 'enrichment-job-gold') return [goldTable];
  return Object.values(BRONZE_TABLES)
    .filter((t) => t.schema === name)
    .map((t) => t.table);
}

function readSchema(file: string): { text: string; json: Record<string, unknown>; fullName: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '<file.avsc>',
      `${file} cannot be read: ${(err as Error).message}`,
      'pass the path of an Avro schema file',
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('<file.avsc>', `${file} is not JSON: ${(err as Error).message}`, 'fix the file');
  }
  if (json.type !== 'record' || typeof json.name !== 'string' || !Array.isArray(json.fields)) {
    throw new ConfigError(
      '<file.avsc>',
      `${file} is not an Avro record schema`,
      'give a schema with "type": "record", a name and fields',
    );
  }
  const name = json.name;
  const fullName =
    name.includes('.') || typeof json.namespace !== 'string' ? name : `${json.namespace}.${name}`;
  // canonical text, as registerValueSchema registers the schemas of schemas/
  return { text: JSON.stringify(json), json, fullName };
}

export async function checkSchema(
  registry: InfraOptions['registry'],
  opts: SchemaCheckOptions,
): Promise<SchemaCheckReport> {
  const next = readSchema(opts.file);
  const known = knownSchema(next.fullName);
  const subject = opts.subject ?? (known ? `${opts.topics[known]}-value` : undefined);
  if (subject === undefined) {
    throw new ConfigError(
      '--subject',
      `${next.fullName} is no record of the pipeline`,
      'name the subject to check against, e.g. --subject my-topic-value',
    );
  }
  const tables = tablesOf(known, opts.goldTable);
  const [latest, level] = await Promise.all([
    latestVersion(registry, subject),
    compatibilityLevel(registry, subject),
  ]);
  const verdict = latest
    ? await testCompatibility(registry, subject, next.text)
    : { compatible: true, messages: [] };
  const diff = latest
    ? diffSchemas(JSON.parse(latest.schema), next.json, tables)
    : {
        changes: [],
        plans: [],
        refused: [],
        notes: [`${subject} does not exist yet: registering creates it`],
      };
  const title = `${subject} v${(latest?.version ?? 0) + 1}: ${diff.changes.map((c) => `${c.change} ${c.field}`).join(', ')} (tributary schema check --apply)`;
  const migration = diff.plans.length > 0 ? migrationSql(diff.plans, title) : null;
  const accepted = verdict.compatible && diff.refused.length === 0;
  const report: SchemaCheckReport = {
    file: opts.file,
    record: next.fullName,
    subject,
    latest: latest ? { version: latest.version, id: latest.id } : null,
    compatibilityLevel: level,
    registry: verdict,
    changes: diff.changes,
    tables,
    plans: diff.plans,
    refused: diff.refused,
    notes: diff.notes,
    migration,
    accepted,
    applied: null,
  };
  if (opts.apply && accepted) {
    const schemaId = await registerSchema(registry, subject, next.text);
    let migrationFile: string | null = null;
    if (migration !== null) {
      migrationFile = path.join(
        opts.migrationsDir,
        `${nextMigrationNumber(opts.migrationsDir)}_${slug(subject, (latest?.version ?? 0) + 1)}.sql`,
      );
      // wx: never overwrite a migration someone else wrote meanwhile
      fs.writeFileSync(migrationFile, migration, { flag: 'wx' });
    }
    report.applied = { schemaId, migrationFile };
  }
  return report;
}

/** The numbers of infra/migrations go by thousands (1000_layers.sql …): the next free thousand. */
export function nextMigrationNumber(dir: string): number {
  const numbers = fs
    .readdirSync(dir)
    .map((f) => /^(\d+)_/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  return (Math.floor(Math.max(0, ...numbers) / 1000) + 1) * 1000;
}

const slug = (subject: string, version: number) =>
  `schema_${subject
    .replace(/-value$/, '')
    .replace(/[^a-z0-9]+/gi, '_')
    .toLowerCase()}_v${version}`;
