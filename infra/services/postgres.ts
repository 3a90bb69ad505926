import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { InfraError } from '../../common/errors.ts';
import { maskUrl } from '../../common/url.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { isAlive } from '../daemon.ts';
import { runOrThrow } from '../exec.ts';
import {
  assertPortFree,
  type Health,
  type LocalService,
  type ServicePaths,
  servicePaths,
  waitUntilReady,
} from '../service.ts';
import { isRoot, postgresCommand, requirePostgres } from '../toolchain.ts';

/**
 * As root, the cluster runs as the `postgres` user, which must be able to reach its folder. When
 * the project lives somewhere it cannot (e.g. under /root), the cluster and its log go to a folder
 * of their own in the system temp dir instead, named after the data folder so each instance keeps
 * its own; `<data>/postgres/LOCATION` says where.
 */
export function postgresFallbackRoot(dataDir: string): string {
  const id = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `tributary-postgres-${id}`);
}

function clusterPaths(preferred: ServicePaths): ServicePaths {
  fs.mkdirSync(preferred.dir, { recursive: true });
  if (!isRoot() || postgresCanReach(path.dirname(preferred.dir))) return preferred;
  const root = postgresFallbackRoot(path.dirname(preferred.dir));
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(preferred.dir, 'LOCATION'), `${root}\n`);
  return { dir: root, logFile: path.join(root, 'postgres.log'), pidFile: preferred.pidFile };
}

/** Whether the postgres user can traverse into `dir` (and so every folder above it). */
function postgresCanReach(dir: string): boolean {
  const [cmd, args] = postgresCommand('', 'test', ['-x', dir]);
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** The databases the runner creates: the pipeline's own, and the schema registry's storage. */
export const DATABASES = ['tributary', 'registry'] as const;

/**
 * A private PostgreSQL cluster in <data>/postgres, listening on 127.0.0.1 and on a socket in the
 * data folder only. Started with pg_ctl (which daemonises and writes postmaster.pid).
 */
export function createPostgresService(opts: InfraOptions): LocalService {
  const paths = clusterPaths(servicePaths(opts.dataDir, 'postgres'));
  const dataDir = path.join(paths.dir, 'data');
  const socketDir = path.join(paths.dir, 'socket');
  let binDir: string | undefined;

  const pgCmd = (program: string, args: string[]) => postgresCommand(binDir!, program, args);
  const pidFromCluster = (): number | undefined => {
    try {
      const pid = Number.parseInt(
        fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!,
        10,
      );
      return Number.isFinite(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const adminUrl = (db: string) =>
    `postgres://tributary:${encodeURIComponent(opts.postgres.password)}@127.0.0.1:${opts.postgres.port}/${db}`;

  async function query<T>(db: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: adminUrl(db), connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  /** As root, the cluster's files must belong to the postgres user that runs the server. */
  function handOver(...dirs: string[]) {
    if (!isRoot()) return;
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    for (const d of dirs) fs.chownSync(d, uid, gid);
  }

  const service: LocalService = {
    name: 'postgres',
    endpoint: maskUrl(opts.postgres.url),
    port: opts.postgres.port,
    logFile: paths.logFile,
    pid: () => {
      const pid = pidFromCluster();
      return isAlive(pid) ? pid : undefined;
    },

    async prepare(log) {
      binDir = await requirePostgres(log);
      if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
      log('postgres: initdb (first run only)');
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(socketDir, { recursive: true });
      const pwFile = path.join(paths.dir, 'pwfile');
      fs.writeFileSync(pwFile, `${opts.postgres.password}\n`, { mode: 0o600 });
      if (!fs.existsSync(paths.logFile)) fs.writeFileSync(paths.logFile, '');
      handOver(paths.dir, dataDir, socketDir, pwFile, paths.logFile);
      try {
        const [cmd, args] = pgCmd('initdb', [
          '-D',
          dataDir,
          '-U',
          'tributary',
          `--pwfile=${pwFile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=trust',
          '-E',
          'UTF8',
          '--locale=C',
        ]);
        await runOrThrow(cmd, args);
      } catch (err) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        throw new InfraError(`initdb failed: ${(err as Error).message}`, {
          fix: isRoot()
            ? `the postgres user must be able to reach ${paths.dir}; put TRIBUTARY_DATA_DIR under a world-traversable folder`
            : 'check that the data folder is writable',
        });
      } finally {
        fs.rmSync(pwFile, { force: true });
      }
    },

    async start(log) {
      if (!(await service.health()).healthy) {
        if (service.pid() === undefined)
          await assertPortFree('postgres', opts.postgres.port, 'TRIBUTARY_POSTGRES_PORT');
        log(`postgres: starting on 127.0.0.1:${opts.postgres.port}`);
        const [cmd, args] = pgCmd('pg_ctl', [
          '-D',
          dataDir,
          '-l',
          paths.logFile,
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${opts.postgres.port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`,
          'start',
        ]);
        await runOrThrow(cmd, args).catch((err) => {
          throw new InfraError(`postgres did not start: ${(err as Error).message}`, {
            fix: `read ${paths.logFile}`,
          });
        });
        const pid = pidFromCluster();
        if (pid !== undefined) fs.writeFileSync(paths.pidFile, `${pid}\n`);
        await waitUntilReady(
          'postgres',
          paths.pidFile,
          paths.logFile,
          async () => (await service.health()).healthy,
          30_000,
        );
      }
      await ensureDatabases();
    },

    health: () => postgresHealth(adminUrl('postgres')),

    async stop(log) {
      if (service.pid() === undefined) return;
      binDir ??= await requirePostgres(log);
      log('postgres: stopping');
      const [cmd, args] = pgCmd('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      await runOrThrow(cmd, args);
      fs.rmSync(paths.pidFile, { force: true });
    },
  };

  async function ensureDatabases() {
    await query('postgres', async (c) => {
      for (const db of DATABASES) {
        const exists = await c.query('select 1 from pg_database where datname = $1', [db]);
        // CREATE DATABASE cannot take a bind parameter; the name comes from the constant above.
        if (exists.rowCount === 0) await c.query(`create database ${db}`);
      }
    });
  }

  return service;
}

export async function postgresHealth(url: string): Promise<Health> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query('show server_version');
    return { healthy: true, detail: `PostgreSQL ${r.rows[0].server_version}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  } finally {
    await client.end().catch(() => {}); // the probe's answer is decided above; a client that never connected has nothing to end
  }
}
