import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The direction of imports (docs/architecture.md "Layout"), checked on the source: a layer that
 * imports the layer above it fails here, naming the file and the import. Test files are left out:
 * a test may reach anywhere to set up what it checks.
 */
const ROOT = path.resolve(import.meta.dirname, '..');

/** folder → the folders of ours it must not import */
const FORBIDDEN: Record<string, string[]> = {
  contracts: [
    'runtime',
    'mock-source',
    'producers',
    'consumers',
    'gateway',
    'lineage',
    'ops',
    'infra',
    'cli',
  ],
  common: ['runtime', 'mock-source', 'producers', 'consumers', 'gateway', 'lineage', 'ops', 'infra', 'cli'],
  schemas: ['runtime', 'mock-source', 'producers', 'consumers', 'gateway', 'lineage', 'ops', 'infra', 'cli'],
  runtime: ['mock-source', 'producers', 'consumers', 'gateway', 'lineage', 'ops', 'infra', 'cli'],
  'mock-source': ['ops', 'infra', 'cli'],
  producers: ['ops', 'infra', 'cli'],
  consumers: ['ops', 'infra', 'cli'],
  gateway: ['ops', 'infra', 'cli'],
  lineage: ['ops', 'infra', 'cli', 'gateway'],
  ops: ['infra', 'cli'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' || e.name === 'node_modules' ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The top-level folder each relative import of a file resolves to. */
function importedFolders(file: string): Array<{ spec: string; folder: string }> {
  const text = fs.readFileSync(file, 'utf8');
  const out: Array<{ spec: string; folder: string }> = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = path.relative(ROOT, path.resolve(path.dirname(file), m[1]!));
    out.push({ spec: m[1]!, folder: target.split(path.sep)[0]! });
  }
  return out;
}

describe('layers', () => {
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${folder}/ imports none of ${forbidden.join(', ')}`, () => {
      const wrong = sourceFiles(path.join(ROOT, folder)).flatMap((file) =>
        importedFolders(file)
          .filter((i) => forbidden.includes(i.folder))
          .map((i) => `${path.relative(ROOT, file)} imports ${i.spec}`),
      );
      expect(wrong).toEqual([]);
    });
  }

  it('sees the imports it checks', () => {
    // the check itself: a file known to import runtime/ must show it
    const folders = importedFolders(path.join(ROOT, 'producers', 'role.ts')).map((i) => i.folder);
    expect(folders).toContain('runtime');
  });
});
