import { describe, expect, it } from 'vitest';
import { diffSchemas, migrationSql } from './diff.ts';

const record = (fields: unknown[]) => ({ type: 'record', name: 'Job', namespace: 'dev.test', fields });
const BASE = [
  { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
  { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['a', 'b'] } },
  { name: 'count', type: 'int' },
  { name: 'note', type: ['null', 'string'], default: null },
  { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
];

describe('diffSchemas', () => {
  it('plans a nullable column for a new optional field, and its down migration', () => {
    const d = diffSchemas(
      record(BASE),
      record([...BASE, { name: 'priority', type: ['null', 'string'], default: null }]),
      ['bronze.jobs'],
    );
    expect(d.changes).toEqual([
      { field: 'priority', change: 'added', from: null, to: '[null, string] default null' },
    ]);
    expect(d.refused).toEqual([]);
    expect(d.plans).toEqual([
      {
        table: 'bronze.jobs',
        up: ['ALTER TABLE bronze.jobs ADD COLUMN IF NOT EXISTS priority text;'],
        down: ['ALTER TABLE bronze.jobs DROP COLUMN IF EXISTS priority;'],
      },
    ]);
    expect(migrationSql(d.plans, 'test')).toBe(
      '-- Up Migration\n-- test\nALTER TABLE bronze.jobs ADD COLUMN IF NOT EXISTS priority text;\n\n-- Down Migration\nALTER TABLE bronze.jobs DROP COLUMN IF EXISTS priority;\n',
    );
  });

  it('maps logical types and enums to their column types', () => {
    const d = diffSchemas(
      record(BASE),
      record([
        ...BASE,
        { name: 'owner', type: ['null', { type: 'string', logicalType: 'uuid' }], default: null },
        { name: 'done_at', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
        { name: 'kind', type: ['null', 'Status'], default: null },
      ]),
      ['t.x'],
    );
    expect(d.plans[0]!.up).toEqual([
      'ALTER TABLE t.x ADD COLUMN IF NOT EXISTS owner uuid;',
      'ALTER TABLE t.x ADD COLUMN IF NOT EXISTS done_at timestamptz;',
      'ALTER TABLE t.x ADD COLUMN IF NOT EXISTS kind text;',
    ]);
  });

  it('widens int to long, refuses a type that does not widen and a field made required', () => {
    const widened = diffSchemas(
      record(BASE),
      record(BASE.map((f) => (f.name === 'count' ? { ...f, type: 'long' } : f))),
      ['t.x'],
    );
    expect(widened.refused).toEqual([]);
    expect(widened.plans[0]!.up).toEqual(['ALTER TABLE t.x ALTER COLUMN count TYPE bigint;']);
    const changed = diffSchemas(
      record(BASE),
      record(
        BASE.map((f) =>
          f.name === 'count'
            ? { ...f, type: 'string' }
            : f.name === 'note'
              ? { name: 'note', type: 'string' }
              : f,
        ),
      ),
      ['t.x'],
    );
    expect(changed.refused.map((r) => r.field)).toEqual(['count', 'note']);
    expect(changed.refused[0]!.reason).toContain('int → string');
    expect(changed.plans).toEqual([]);
  });

  it('keeps the column of a removed field and lets it be null', () => {
    const d = diffSchemas(record(BASE), record(BASE.filter((f) => f.name !== 'count')), ['t.x']);
    expect(d.changes).toEqual([{ field: 'count', change: 'removed', from: 'int', to: null }]);
    expect(d.plans[0]!.up).toEqual(['ALTER TABLE t.x ALTER COLUMN count DROP NOT NULL;']);
  });

  it('refuses a field named like a lineage column, and a nested record', () => {
    const d = diffSchemas(
      record(BASE),
      record([
        ...BASE,
        { name: 'offset', type: ['null', 'long'], default: null },
        { name: 'meta', type: ['null', { type: 'record', name: 'Meta', fields: [] }], default: null },
      ]),
      ['t.x'],
    );
    expect(d.refused.map((r) => r.field)).toEqual(['offset', 'meta']);
  });
});
