import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_EXAMPLE_FILE, renderEnvExample } from './env-catalog.ts';

describe('.env.example', () => {
  it('lists every setting of every component (run npm run env:example when this fails)', () => {
    expect(fs.readFileSync(ENV_EXAMPLE_FILE, 'utf8')).toBe(renderEnvExample());
  });
});
