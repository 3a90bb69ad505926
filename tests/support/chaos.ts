import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { waitFor } from '../../common/wait-for.ts';
import { localServices } from '../../infra/runner.ts';
import type { ServiceName } from '../../infra/service.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { type RoleProcess, spawnRole } from './child.ts';

/**
 * The chaos test's machinery: role processes kept running the way a supervisor (systemd, Kubernetes)
 * would — a role that exits by itself is started again after a pause, and says so in the timeline —,
 * kill -9 of a role or of a local server, and the numbers that say whether the pipeline moves.
 */

/** What happened when, in seconds since the start: printed with every failure and at the end. */
export class Timeline {
  private readonly t0 = Date.now();
  private readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(`${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

export interface RoleSpec {
  /** the process entry, run with `node --import tsx` */
  entry: string;
  env?: Record<string, string>;
  /** where the process answers /readyz; defaults to its ops server (TRIBUTARY_OPS_PORT) */
  readyUrl?: (port: number) => string;
  /** the setting that receives the port of readyUrl; default TRIBUTARY_OPS_PORT */
  portVar?: string;
}

/** A pause before starting again a role that exited by itself, as a supervisor's restart delay. */
const SELF_EXIT_RESTART_MS = 1_000;

interface Managed {
  spec: RoleSpec;
  port: number;
  current?: RoleProcess;
  /** output of the earlier incarnations, each headed by how it ended */
  past: string[];
  incarnations: number;
}

export interface RoleSupervisor<N extends string> {
  start(name: N): void;
  kill9(name: N): Promise<void>;
  /** sends `signal` (e.g. SIGSTOP, SIGCONT) to the role's current process; returns its pid */
  signal(name: N, signal: NodeJS.Signals): number;
  /** waits until the role's current process answers /readyz with 200 */
  ready(name: N, timeoutMs: number): Promise<void>;
  readyzStatus(name: N): Promise<{ status: number; body: string }>;
  /** http://127.0.0.1:<the role's port> */
  baseUrl(name: N): string;
  /** how often each role exited without being killed by us, with the codes */
  selfExits(): Array<{ role: N; code: number | null; signal: string | null }>;
  /** the end of every role's output, all incarnations, for failure messages */
  tails(chars?: number): string;
  /** writes each role's whole output (all incarnations) to <dir>/<role>.log; returns the paths */
  dump(dir: string): string[];
  /** SIGTERM to each role; their exit codes */
  stopAll(): Promise<Record<string, number | null>>;
  killAll(): Promise<void>;
}

export async function superviseRoles<N extends string>(
  specs: Record<N, RoleSpec>,
  baseEnv: Record<string, string>,
  timeline: Timeline,
): Promise<RoleSupervisor<N>> {
  const roles = new Map<N, Managed>();
  // One port per role, all different: the OS may hand the same free port out twice in a row (a
  // cluster run once gave a gold sink's ops server the port picked for a gateway).
  const taken = new Set<number>();
  for (const [name, spec] of Object.entries(specs) as Array<[N, RoleSpec]>) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    roles.set(name, { spec, port, past: [], incarnations: 0 });
  }
  const exits: Array<{ role: N; code: number | null; signal: string | null }> = [];
  let stopping = false;
  const killedByUs = new WeakSet<RoleProcess>();
  const get = (name: N) => roles.get(name)!;
  const whole = (m: Managed) =>
    [
      ...m.past,
      ...(m.current ? [`[incarnation ${m.incarnations}, current]\n${m.current.output()}`] : []),
    ].join('\n');
  const readyUrl = (m: Managed) => m.spec.readyUrl?.(m.port) ?? `http://127.0.0.1:${m.port}/readyz`;

  const start = (name: N) => {
    const m = get(name);
    const proc = spawnRole(m.spec.entry, {
      ...baseEnv,
      ...m.spec.env,
      [m.spec.portVar ?? 'TRIBUTARY_OPS_PORT']: String(m.port),
    });
    m.current = proc;
    m.incarnations += 1;
    const incarnation = m.incarnations;
    proc.child.once('exit', (code, signal) => {
      const how = killedByUs.has(proc)
        ? 'killed -9 by the test'
        : `exited by itself: code ${code} ${signal ?? ''}`;
      m.past.push(`[incarnation ${incarnation}, ${how}]\n${proc.output()}`);
      if (killedByUs.has(proc) || stopping) return;
      exits.push({ role: name, code, signal });
      timeline.add(`${name} ${how}; supervisor restarts it`);
      // a supervisor's restart delay (the process exited non-zero to be restarted)
      setTimeout(() => {
        if (!stopping && m.current === proc) start(name);
      }, SELF_EXIT_RESTART_MS);
    });
  };

  return {
    start,
    async kill9(name) {
      const proc = get(name).current;
      if (!proc) return;
      killedByUs.add(proc);
      await proc.kill9();
    },
    signal(name, signal) {
      const pid = get(name).current?.child.pid;
      if (pid === undefined) throw new Error(`${name} has no process to send ${signal} to`);
      process.kill(pid, signal);
      return pid;
    },
    async ready(name, timeoutMs) {
      const m = get(name);
      await waitFor(
        async () => {
          const res = await fetch(readyUrl(m), { signal: AbortSignal.timeout(2000) });
          await res.body?.cancel();
          return res.ok;
        },
        { timeoutMs, intervalMs: 250, what: `${name} to answer /readyz with 200` },
      );
    },
    async readyzStatus(name) {
      const res = await fetch(readyUrl(get(name)), { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    },
    baseUrl: (name) => `http://127.0.0.1:${get(name).port}`,
    selfExits: () => [...exits],
    tails(chars = 4000) {
      return [...roles]
        .map(([name, m]) => `--- ${name} (${m.incarnations} incarnations)\n${whole(m).slice(-chars)}`)
        .join('\n');
    },
    dump(dir) {
      fs.mkdirSync(dir, { recursive: true });
      return [...roles].map(([name, m]) => {
        const file = path.join(dir, `${name}.log`);
        fs.writeFileSync(file, whole(m));
        return file;
      });
    },
    async stopAll() {
      stopping = true;
      const codes: Record<string, number | null> = {};
      await Promise.all(
        [...roles].map(async ([name, m]) => {
          if (m.current) codes[name] = await m.current.stop();
        }),
      );
      return codes;
    },
    async killAll() {
      stopping = true;
      await Promise.all(
        [...roles.values()].map(async (m) => {
          if (m.current) {
            killedByUs.add(m.current);
            await m.current.kill9();
          }
        }),
      );
    },
  };
}

/** kill -9 of one local server of `opts`' instance; resolves once it is gone. */
export async function killServer(opts: InfraOptions, name: ServiceName): Promise<number> {
  const service = localServices(opts).find((s) => s.name === name);
  const pid = service?.pid();
  if (!service || pid === undefined) throw new Error(`${name} is not running as a local server`);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => service.pid() !== pid, { timeoutMs: 30_000, what: `${name} (pid ${pid}) to die` });
  return pid;
}

/** The sum of a group's committed offsets over `topics` (-1, never committed, counts 0). */
export async function committedSum(admin: Admin, group: string, topics: string[]): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId: group, topics });
  return offsets.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

/** The sum of the end offsets of `topics`. */
export async function endSum(admin: Admin, topics: string[]): Promise<number> {
  let n = 0;
  for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) n += Number(p.high);
  return n;
}

/** A random whole number of milliseconds in [min, max]. */
export function randomMs(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** A chaos pause: a bounded random wait, part of the scenario (not a wait for a condition). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
