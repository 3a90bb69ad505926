import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of exactly the pipeline phase (not the seeding nor the ceilings), written as a
 * .cpuprofile (open it in Chrome DevTools or speedscope), and a summary of where the time went:
 * self time by function and by package/folder.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export async function startCpuProfile(): Promise<{ stop(file: string): Promise<ProfileSummary> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 1 ms sampling keeps the profile of a long run small
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      return summarizeProfile(profile);
    },
  };
}

export interface ProfileSummary {
  totalMs: number;
  functions: Array<{ name: string; ms: number; share: number }>;
  groups: Array<{ name: string; ms: number; share: number }>;
}

/** file:// URL of the repository root, with a trailing slash (this file is bench/pipeline/profile.ts). */
const ROOT = new URL('../../', import.meta.url).href;

/** Where a frame's code lives: a package, a project folder, Node's internals, or V8's pseudo-frames. */
export function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  if (!url.startsWith(ROOT)) return url;
  // a project file: its folder, and its sub-folder when it has one (consumers/bronze, mock-source/routes)
  const parts = url.slice(ROOT.length).split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Time spent in Node's internals and native code is charged to the nearest caller that is ours or a package's. */
const CHARGED_TO_CALLER = new Set(['node:internal', '(native)', '(program)']);

/**
 * Self time per function, and per package/folder with the time of Node's internals (buffers,
 * sockets, streams, writes) charged to the package or folder that called into them: "kafkajs" then
 * includes the socket writes it asked for.
 */
export function summarizeProfile(profile: Profile, top = 15): ProfileSummary {
  const selfMs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
    }
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const groupOfNode = (id: number): string => {
    let at: number | undefined = id;
    const own = groupOf(byId.get(id)!.callFrame.url, byId.get(id)!.callFrame.functionName);
    if (!CHARGED_TO_CALLER.has(own)) return own;
    while (at !== undefined) {
      const f = byId.get(at)!.callFrame;
      const g = groupOf(f.url, f.functionName);
      if (!CHARGED_TO_CALLER.has(g) && g !== '(root)') return g;
      at = parent.get(at);
    }
    return own;
  };
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^.*\/node_modules\//, '');
    // tsx-compiled project files report line 0: the file names the function well enough
    const where = url ? `${file}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : '';
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const group = groupOfNode(node.id);
    byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
  return { totalMs, functions: rank(byFunction), groups: rank(byGroup) };
}

export function profileReport(s: ProfileSummary, file: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(1).padStart(5)} %`;
  return [
    `CPU profile of the pipeline phase: ${file} (${(s.totalMs / 1000).toFixed(1)} s)`,
    "self time by package / folder (Node's internals charged to their caller):",
    ...s.groups.map((g) => `  ${pct(g.share)}  ${g.name}`),
    'self time by function:',
    ...s.functions.map((f) => `  ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
