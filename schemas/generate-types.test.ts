import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, generateTypes } from './generate-types.ts';
import { schemaViolations } from './index.ts';

describe('Avro schemas', () => {
  it('generated/types.ts is up to date with the .avsc files (run npm run schemas:generate)', () => {
    expect(fs.readFileSync(GENERATED_FILE, 'utf8')).toBe(generateTypes());
  });

  it('names every field that does not fit', () => {
    const ok = {
      id: '6f1c1b52-6c8e-4d55-9d8b-0c6a1f0b8a11',
      name: 'Acme',
      plan: 'pro',
      segment: 'smb',
      country: 'DE',
      owner_email: 'a@example.com',
      created_at: 1,
      updated_at: 2,
    };
    expect(schemaViolations('workspace', ok)).toEqual([]);
    expect(schemaViolations('workspace', { ...ok, plan: 'platinum', created_at: '1' })).toEqual([
      'plan: "platinum" is not a valid enum value (free, starter, pro, enterprise)',
      'created_at: "1" is not a valid long',
    ]);
    const { name: _, ...missing } = ok;
    expect(schemaViolations('workspace', missing)).toEqual(['name: undefined is not a valid string']);
  });
});
