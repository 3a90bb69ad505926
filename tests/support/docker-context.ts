import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Enough of Docker's build semantics to lay out what a Dockerfile stage puts in an image, without
 * Docker: the build context filtered by .dockerignore, the stage's COPY instructions in order, and
 * its `npm ci` steps run for real. tests/integration/docker-image.test.ts then runs the result.
 */

export interface Instruction {
  op: string;
  /** the arguments, split like Docker does (JSON-array form or whitespace) */
  args: string[];
  /** `--from=build` → { from: 'build' } */
  flags: Record<string, string>;
}

export interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    let words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/).filter(Boolean);
    const flags: Record<string, string> = {};
    while (words[0]?.startsWith('--')) {
      const [key = '', value = ''] = words[0].slice(2).split('=');
      flags[key] = value;
      words = words.slice(1);
    }
    const instruction = { op: op.toUpperCase(), args: words, flags };
    if (instruction.op === 'FROM') {
      const [base = '', as, name] = words;
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${op} before the first FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/**
 * A .dockerignore's rules for context-relative paths ("a/b/c.ts"), as Docker applies them: matched
 * against the whole path (`*.log` is the top level only, `**\/*.log` any depth), a match on a folder
 * excludes what it holds, and the last matching line wins (`!` re-includes).
 */
export function dockerignore(text: string): { excludes(relPath: string): boolean; negations: boolean } {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return {
    negations: rules.some((r) => r.negate),
    excludes(relPath) {
      const parts = relPath.split('/');
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let excluded = false;
      for (const rule of rules) {
        if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.negate;
      }
      return excluded;
    },
  };
}

function globToRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more folders; a trailing `**` anything below
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Every file of the build context that .dockerignore lets through, as sorted relative paths. */
export function contextFiles(root: string, ignore: ReturnType<typeof dockerignore>): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      const excluded = ignore.excludes(child);
      // an excluded folder (node_modules, .tributary, .git) is not even read, unless `!` may re-include
      if (excluded && !ignore.negations) continue;
      if (fs.statSync(path.join(root, child)).isDirectory()) walk(child);
      else if (!excluded) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

export interface LaidOutStage {
  /** context-relative paths the stage's COPY instructions took from the build context */
  copied: string[];
  /** `COPY --from=<stage>` sources: build outputs of another stage, not laid out here */
  fromStages: Array<{ stage: string; source: string }>;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

/**
 * Lays out `stage` of the Dockerfile in `out` (which stands for the stage's WORKDIR): COPY from the
 * context honouring .dockerignore, and the `npm ci` of its RUN lines (from the npm cache when it
 * can). Any other RUN is refused: the test would otherwise claim to check an image it cannot build.
 */
export function layOutStage(opts: { context: string; stage: Stage; out: string }): LaidOutStage {
  const { context, stage, out } = opts;
  const ignoreFile = path.join(context, '.dockerignore');
  const ignore = dockerignore(fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : '');
  const files = contextFiles(context, ignore);
  const result: LaidOutStage = { copied: [], fromStages: [], env: {}, entrypoint: [], cmd: [] };
  // the stage's first WORKDIR is `out`; every COPY must land below it
  let root: string | undefined;
  let workdir = '/';
  const hostPath = (containerPath: string) => {
    const abs = path.posix.resolve(workdir, containerPath);
    const rel = root === undefined ? '..' : path.posix.relative(root, abs);
    if (rel.startsWith('..')) throw new Error(`COPY to ${abs}, outside the first WORKDIR (${root})`);
    return path.join(out, rel);
  };
  const copy = (file: string, destFile: string) => {
    fs.mkdirSync(path.dirname(destFile), { recursive: true });
    fs.copyFileSync(path.join(context, file), destFile);
    result.copied.push(file);
  };

  for (const { op, args, flags } of stage.instructions) {
    if (op === 'WORKDIR') {
      workdir = path.posix.resolve(workdir, args[0]!);
      root ??= workdir;
    } else if (op === 'ENV') {
      const pairs = args.some((a) => a.includes('='))
        ? args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])
        : [[args[0]!, args.slice(1).join(' ')]];
      for (const [k, v] of pairs) result.env[k!] = v!;
    } else if (op === 'COPY' || op === 'ADD') {
      const sources = args.slice(0, -1);
      const dest = args.at(-1)!;
      if (flags.from !== undefined) {
        for (const source of sources) result.fromStages.push({ stage: flags.from, source });
        continue;
      }
      const toDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
      for (const source of sources) {
        const src = path.posix.normalize(source).replace(/\/$/, '');
        if (src === '.') {
          for (const file of files) copy(file, path.join(hostPath(dest), file));
          continue;
        }
        const pattern = globToRegex(src);
        const matched = files.filter((f) => pattern.test(f));
        const below = files.filter((f) => f.startsWith(`${src}/`));
        if (matched.length === 0 && below.length === 0) {
          // docker build fails the same way
          throw new Error(`COPY ${source}: not in the build context (or excluded by .dockerignore)`);
        }
        for (const file of matched) {
          copy(file, toDir ? path.join(hostPath(dest), path.posix.basename(file)) : hostPath(dest));
        }
        for (const file of below) copy(file, path.join(hostPath(dest), file.slice(src.length + 1)));
      }
    } else if (op === 'RUN') {
      for (const command of args
        .join(' ')
        .split('&&')
        .map((c) => c.trim())) {
        const words = command.split(/\s+/);
        if (words[0] !== 'npm' || words[1] !== 'ci') {
          throw new Error(`the stage runs \`${command}\`, which this layout cannot reproduce: teach it`);
        }
        const run = spawnSync('npm', [...words.slice(1), '--prefer-offline'], {
          cwd: out,
          env: { ...process.env, ...result.env },
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`\`${command}\` failed:\n${run.stdout}\n${run.stderr}`);
      }
    } else if (op === 'ENTRYPOINT') result.entrypoint = args;
    else if (op === 'CMD') result.cmd = args;
    else if (!['USER', 'EXPOSE', 'LABEL', 'ARG', 'HEALTHCHECK', 'STOPSIGNAL', 'VOLUME'].includes(op)) {
      throw new Error(`Dockerfile instruction ${op} is not understood by this layout: teach it`);
    }
  }
  result.copied = [...new Set(result.copied)].sort();
  return result;
}
