import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MissingToolError } from '../common/errors.ts';
import { run, which } from './exec.ts';

/**
 * Finds the programs the local servers need, and installs the missing ones when it can: as root on
 * a Debian-like system through apt-get; everywhere else it stops with the command to run.
 */
export type Log = (line: string) => void;

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = () => which('apt-get') !== undefined;
let aptUpdated = false;

async function aptInstall(pkgs: string[], log: Log): Promise<boolean> {
  if (!isRoot() || !hasApt()) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log(`apt-get update (to install ${pkgs.join(', ')})`);
    await run('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  log(`apt-get install ${pkgs.join(' ')}`);
  const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  return r.code === 0;
}

function hint(debian: string, brew: string): string {
  return os.platform() === 'darwin'
    ? `install it with: brew install ${brew}`
    : `install it with: sudo apt-get install ${debian} (or your distribution's package)`;
}

export async function requireJava(log: Log): Promise<string> {
  const found = which('java');
  if (found) return found;
  if (await aptInstall(['openjdk-17-jre-headless'], log)) return which('java')!;
  throw new MissingToolError('Java 17 (java)', hint('openjdk-17-jre-headless', 'openjdk@17'));
}

export async function requireMaven(log: Log): Promise<string> {
  await requireJava(log);
  const found = which('mvn');
  if (found) return found;
  if (await aptInstall(['maven'], log)) return which('mvn')!;
  throw new MissingToolError('Apache Maven (mvn)', hint('maven', 'maven'));
}

function postgresBinDirs(): string[] {
  const dirs = [process.env.TRIBUTARY_PG_BIN ?? ''];
  const pgConfig = which('pg_config');
  if (pgConfig) dirs.push(path.dirname(pgConfig));
  for (const v of ['15', '16', '17']) {
    dirs.push(
      `/usr/lib/postgresql/${v}/bin`,
      `/opt/homebrew/opt/postgresql@${v}/bin`,
      `/usr/local/opt/postgresql@${v}/bin`,
    );
  }
  const initdb = which('initdb');
  if (initdb) dirs.push(path.dirname(fs.realpathSync(initdb)));
  return dirs.filter(Boolean);
}

/** The folder holding initdb, pg_ctl and postgres (PostgreSQL 15 or newer). */
export async function requirePostgres(log: Log): Promise<string> {
  const find = () =>
    postgresBinDirs().find((d) =>
      ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(d, b))),
    );
  const found = find();
  if (found) return found;
  if (await aptInstall(['postgresql-15'], log)) {
    const again = find();
    if (again) return again;
  }
  throw new MissingToolError(
    'PostgreSQL 15 server binaries (initdb, pg_ctl)',
    `${hint('postgresql-15', 'postgresql@15')}; or set TRIBUTARY_PG_BIN to the folder holding initdb`,
  );
}

export async function requireChromium(log: Log): Promise<string> {
  const candidates = [
    process.env.TRIBUTARY_CHROMIUM ?? '',
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  ].filter(Boolean);
  const find = () => candidates.find((c) => fs.existsSync(c));
  const found = find();
  if (found) return found;
  if (await aptInstall(['chromium'], log)) return find()!;
  throw new MissingToolError(
    'Chromium',
    `${hint('chromium', '--cask chromium')}; or set TRIBUTARY_CHROMIUM to a Chrome/Chromium executable`,
  );
}

/**
 * Postgres refuses to run as root. As root we run its programs as the `postgres` user (runuser);
 * as anyone else, directly.
 */
export function postgresCommand(binDir: string, program: string, args: string[]): [string, string[]] {
  const bin = path.join(binDir, program);
  if (!isRoot()) return [bin, args];
  const runuser = which('runuser');
  if (runuser) return [runuser, ['-u', 'postgres', '--', bin, ...args]];
  return [
    'su',
    [
      'postgres',
      '-s',
      '/bin/sh',
      '-c',
      [bin, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' '),
    ],
  ];
}

export { isRoot };
