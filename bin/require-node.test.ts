import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Runs bin/require-node.mjs's check as if this Node were `version`. */
function check(version: string) {
  return spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { requireSupportedNode } from './bin/require-node.mjs'; requireSupportedNode(${JSON.stringify(version)});`,
    ],
    { encoding: 'utf8' },
  );
}

describe('the Node.js version check of `npm start`, `npm test` and bin/tributary.mjs', () => {
  const range = JSON.parse(fs.readFileSync('package.json', 'utf8')).engines.node as string;

  it('requires a supported LTS, as package.json and .nvmrc say', () => {
    expect(range).toBe('>=22.12');
    expect(fs.readFileSync('.nvmrc', 'utf8').trim()).toMatch(/^22\.\d+\.\d+$/);
    expect(fs.readFileSync('infra/Dockerfile', 'utf8')).toMatch(/^FROM node:22-/m);
  });

  it('stops an older Node at once, naming the version to install', () => {
    for (const old of ['20.20.2', '22.11.9', '18.0.0']) {
      const result = check(old);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`tributary needs Node.js ${range}`);
      expect(result.stderr).toContain(`this is Node.js ${old}`);
      expect(result.stderr).toContain('fix: install Node.js 22');
    }
  });

  it('lets a supported Node through', () => {
    for (const ok of ['22.12.0', '22.23.5', '24.1.0']) {
      const result = check(ok);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
  });

  it('runs first in `npm start` and `npm test`', () => {
    const { scripts } = JSON.parse(fs.readFileSync('package.json', 'utf8'));
    expect(scripts.pretest).toBe('node bin/require-node.mjs');
    expect(scripts.prestart).toMatch(/^node bin\/require-node\.mjs && /);
  });
});
