import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const DASHBOARD = path.resolve('dashboard');
const DIST_INDEX = path.join(DASHBOARD, 'dist', 'index.html');

/** Builds dashboard/dist when it is missing or older than a source file (tests that open the page). */
export async function ensureDashboardBuilt(): Promise<void> {
  const newest = (dir: string): number =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .map((e) =>
        e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs,
      )
      .reduce((a, b) => Math.max(a, b), 0);
  // the bundle also takes the event map, the API's types and the contracts from outside dashboard/
  const sources = Math.max(
    newest(path.join(DASHBOARD, 'src')),
    newest(path.resolve('contracts')),
    fs.statSync(path.resolve('gateway', 'events.ts')).mtimeMs,
    fs.statSync(path.resolve('gateway', 'schemas.ts')).mtimeMs,
    fs.statSync(path.join(DASHBOARD, 'index.html')).mtimeMs,
    fs.statSync(path.join(DASHBOARD, 'vite.config.ts')).mtimeMs,
  );
  if (fs.existsSync(DIST_INDEX) && fs.statSync(DIST_INDEX).mtimeMs >= sources) return;
  const vite = path.resolve('node_modules/vite/bin/vite.js');
  await promisify(execFile)(process.execPath, [
    vite,
    'build',
    '--config',
    'dashboard/vite.config.ts',
    '--logLevel',
    'warn',
  ]);
}
