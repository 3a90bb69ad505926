import type { Command } from 'commander';
import { MIGRATIONS_DIR } from '../../infra/migrate.ts';
import { opsOptions } from '../../ops/options.ts';
import { checkSchema, type SchemaCheckReport } from '../../ops/schema-check/check.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

export function registerSchemaCommand(program: Command): void {
  const schema = program.command('schema').description('preview and register changes of the Avro schemas');
  schema
    .command('check')
    .description(
      'ask the registry whether a new version of a schema is compatible, show the field-level diff and the migration the tables would need; changes nothing unless --apply',
    )
    .argument('<file.avsc>', 'the new version of the schema')
    .option(
      '--subject <subject>',
      'the subject to check against (default: the topic of the record, e.g. raw.enrichment-jobs-value)',
    )
    .option('--apply', 'register the schema and write the migration to infra/migrations, when accepted')
    .option('--migrations-dir <dir>', 'where --apply writes the migration', MIGRATIONS_DIR)
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        o: { subject?: string; apply?: boolean; migrationsDir: string; json?: boolean },
      ) => {
        const ops = opsOptions(process.env);
        const report = await checkSchema(infraOptions().registry, {
          file,
          subject: o.subject,
          apply: o.apply === true,
          migrationsDir: o.migrationsDir,
          topics: {
            workspace: ops.topics.rawWorkspaces,
            'enrichment-job': ops.topics.rawJobs,
            'enrichment-job-gold': ops.topics.gold,
          },
          goldTable: ops.gold.table,
        });
        console.log(
          o.json
            ? JSON.stringify(report, null, 2)
            : renderSchemaCheck(report, o.apply === true, ops.gold.table),
        );
        if (!report.accepted) process.exitCode = 1;
      },
    );
}

export function renderSchemaCheck(r: SchemaCheckReport, apply: boolean, goldTable: string): string {
  const out = [
    `subject ${r.subject} (${r.record}): ${r.latest ? `latest version ${r.latest.version} (id ${r.latest.id})` : 'no version yet'}, compatibility ${r.compatibilityLevel}`,
    r.registry.compatible
      ? 'registry: compatible'
      : `registry: NOT compatible${r.registry.messages.length === 0 ? ' (the registry gave no reason)' : ':'}`,
    ...r.registry.messages.map((m) => `  - ${m}`),
    '',
    r.changes.length === 0 ? 'field changes: none' : 'field changes:',
  ];
  const sign = { added: '+', removed: '-', type: '~', nullability: '~', default: '~', doc: '~' } as const;
  for (const c of r.changes) {
    const what =
      c.change === 'added'
        ? c.to
        : c.change === 'removed'
          ? c.from
          : `${c.change}: ${c.from ?? '(none)'} → ${c.to ?? '(none)'}`;
    out.push(`  ${sign[c.change]} ${c.field}  ${what}`);
  }
  out.push('');
  if (r.refused.length > 0) {
    out.push('refused (no migration can follow these):');
    for (const x of r.refused) out.push(`  ✗ ${x.field}: ${x.reason}`);
  } else if (r.migration) {
    out.push(
      `migration (${r.tables.join(', ')}):`,
      ...r.migration
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  } else {
    out.push(
      r.tables.length > 0
        ? `tables (${r.tables.join(', ')}): no change needed`
        : 'tables: none are written from this record',
    );
  }
  // the gold record is also stored in MongoDB
  if (r.tables.includes(goldTable))
    out.push('MongoDB: documents need no migration (new fields arrive with new records)');
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push('');
  if (r.applied) {
    out.push(
      `applied: registered as schema id ${r.applied.schemaId}` +
        (r.applied.migrationFile
          ? `; wrote ${r.applied.migrationFile} (applied by the next \`tributary infra up\` or \`start\`)`
          : ''),
    );
  } else if (!r.accepted) {
    out.push(`refused: nothing was changed${apply ? ' (--apply registers only an accepted change)' : ''}`);
  } else {
    out.push('accepted; nothing was changed (--apply registers it and writes the migration)');
  }
  return out.join('\n');
}
