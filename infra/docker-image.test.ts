import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../cli/role-list.ts';
import {
  dockerignore,
  type LaidOutStage,
  layOutStage,
  parseDockerfile,
} from '../tests/support/docker-context.ts';

/**
 * No machine here runs Docker, so the image's content is checked without it: the runtime stage of
 * infra/Dockerfile is laid out in a temporary folder exactly as its COPY lines say (the build context
 * filtered by .dockerignore), its `npm ci --omit=dev` is run there, and then the image's entrypoint
 * answers `--help` and every role's module imports, with the stage's environment. A folder missing
 * from the image (ops/ once was) fails here with ERR_MODULE_NOT_FOUND, as the containers would.
 * (A unit test: it needs the npm registry or its cache, no server.)
 */
const CONTEXT = path.resolve(import.meta.dirname, '..');
const stages = parseDockerfile(fs.readFileSync(path.join(CONTEXT, 'infra/Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;

let dir: string;
let image: LaidOutStage;

function run(args: string[]) {
  return spawnSync(process.execPath, args, {
    cwd: dir,
    // the image's environment only: nothing from this checkout's settings or tools leaks in
    env: { PATH: process.env.PATH, HOME: dir, ...image.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-image-'));
  image = layOutStage({ context: CONTEXT, stage: runtime, out: dir });
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// no server is involved, but npm ci and the first tsx compile of the whole tree take a while
describe('the runtime image of infra/Dockerfile, laid out without Docker', { timeout: 120_000 }, () => {
  it('is built on the Node LTS the project requires, in production mode', () => {
    const major = fs.readFileSync(path.join(CONTEXT, '.nvmrc'), 'utf8').trim().split('.')[0];
    for (const stage of stages) expect(stage.base).toMatch(new RegExp(`^node:${major}-`));
    expect(image.env.NODE_ENV).toBe('production');
    expect(image.entrypoint).toEqual(['node', 'bin/tributary.mjs']);
  });

  it('takes no secrets, local data, installed dependencies or tests from the build context', () => {
    expect(image.copied.length).toBeGreaterThan(50);
    const forbidden =
      /^(\.env$|\.env\.|\.tributary\/|node_modules\/|\.git\/|dist\/|test-artifacts\/|tests\/)|\.test\.ts$/;
    expect(image.copied.filter((f) => forbidden.test(f))).toEqual([]);
    // other stages contribute build outputs only (the dashboard bundle), never sources
    for (const { source } of image.fromStages) expect(source).toMatch(/\/dist\/?$/);
  });

  it('keeps secrets and local state out of the build context by .dockerignore, wherever they are', () => {
    const ignore = dockerignore(fs.readFileSync(path.join(CONTEXT, '.dockerignore'), 'utf8'));
    for (const kept of [
      '.env',
      '.env.local',
      '.tributary/dev/kafka/x',
      'node_modules/a/b.js',
      'gateway/node_modules/x',
    ]) {
      expect(ignore.excludes(kept), kept).toBe(true);
    }
    for (const sent of [
      'ops/replay.ts',
      'bin/tributary.mjs',
      'dashboard/src/App.svelte',
      'package-lock.json',
    ]) {
      expect(ignore.excludes(sent), sent).toBe(false);
    }
    expect(ignore.excludes('mock-source/guard.test.ts')).toBe(true);
  });

  it('has only the production dependencies', () => {
    expect(fs.existsSync(path.join(dir, 'node_modules/tsx'))).toBe(true);
    for (const dev of ['vitest', 'vite', '@biomejs/biome', 'typescript', 'socket.io-client']) {
      expect(fs.existsSync(path.join(dir, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('carries the patched kafkajs (patches/, applied by npm ci through patch-package)', () => {
    const filter = fs.readFileSync(
      path.join(dir, 'node_modules/kafkajs/src/consumer/filterAbortedMessages.js'),
      'utf8',
    );
    expect(filter).toContain('[...abortedTransactions].sort(');
  });

  it('runs `tributary --help` from its entrypoint', () => {
    const [cmd, ...args] = image.entrypoint;
    expect(cmd).toBe('node');
    const result = run([...args, '--help']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: tributary');
    for (const command of ['infra', 'start', 'status', 'replay', 'rebuild-gold', 'dlq', 'reset']) {
      expect(result.stdout).toContain(command);
    }
  });

  it('imports every role that docker-compose.yml starts', () => {
    const script = [
      "const { ROLES } = await import('./cli/role-list.ts');",
      'for (const role of ROLES) if (typeof role.start !== "function") throw new Error(role.name);',
      'console.log(JSON.stringify(ROLES.map((r) => r.name)));',
    ].join('\n');
    const result = run(['--import', 'tsx', '--input-type=module', '-e', script]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(ROLES.map((r) => r.name));
  });
});
