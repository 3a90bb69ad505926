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
}
interface Profile {
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

/** Where a frame's code lives: a package, a project folder, Node's internals, or V8's pseudo-frames. */
export function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  const project = url.match(
    /\/(bench|cli|common|consumers|gateway|infra|mock-source|ops|producers|schemas)\/(?:([^/]+)\/)?/,
  );
  if (project) return project[2] && !project[2].includes('.') ? `${project[1]}/${project[2]}` : project[1]!;
  return url;
}

export function summarizeProfile(profile: Profile, top = 15): ProfileSummary {
  const selfMs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
    }
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^file:\/\/.*?\/(node_modules\/)/, '$1').replace(/^file:\/\/\S*?\/(?=(bench|cli|common|consumers|gateway|infra|mock-source|ops|producers|schemas)\/)/, '')}:${lineNumber + 1}`
      : '';
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const group = groupOf(url, functionName);
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
    'self time by package / folder:',
    ...s.groups.map((g) => `  ${pct(g.share)}  ${g.name}`),
    'self time by function:',
    ...s.functions.map((f) => `  ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
