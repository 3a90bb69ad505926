import fs from 'node:fs';
import path from 'node:path';
import { InfraError } from '../common/errors.ts';
import { run } from './exec.ts';
import { type Log, requireMaven } from './toolchain.ts';

/**
 * Resolves jars from Maven Central with the user's Maven into the cache folder (outside the
 * tracked tree), once: a `.complete` marker makes later runs instant.
 */
export interface MavenBundle {
  /** folder name under the cache dir, e.g. "kafka-3.9.1" */
  name: string;
  /** group:artifact:version coordinates whose runtime dependencies are copied into lib/ */
  dependencies: string[];
}

function pom(bundle: MavenBundle): string {
  const deps = bundle.dependencies
    .map((c) => {
      const [g, a, v] = c.split(':');
      return `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
    })
    .join('\n    ');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tributary.infra</groupId>
  <artifactId>${bundle.name.replace(/[^a-zA-Z0-9.-]/g, '-')}</artifactId>
  <version>1</version>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

/** Returns the lib/ folder that holds every jar of the bundle. */
export async function resolveJars(cacheDir: string, bundle: MavenBundle, log: Log): Promise<string> {
  const dir = path.join(cacheDir, bundle.name);
  const lib = path.join(dir, 'lib');
  if (fs.existsSync(path.join(dir, '.complete'))) return lib;
  const mvn = await requireMaven(log);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), pom(bundle));
  log(`downloading ${bundle.dependencies.join(', ')} from Maven Central (first run only)…`);
  const r = await run(mvn, [
    '-B',
    '-q',
    '-f',
    path.join(dir, 'pom.xml'),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${lib}`,
    '-DincludeScope=runtime',
  ]);
  if (r.code !== 0) throw mavenError(bundle.name, r.stdout + r.stderr);
  fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
  return lib;
}

/** Downloads one archive artifact (g:a:v:type:classifier) and unpacks it; returns the folder. */
export async function resolveArchive(
  cacheDir: string,
  name: string,
  coords: string,
  log: Log,
): Promise<string> {
  const dir = path.join(cacheDir, name);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const mvn = await requireMaven(log);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`downloading ${coords} from Maven Central (first run only, ~100 MB)…`);
  const r = await run(mvn, [
    '-B',
    '-q',
    'dependency:copy',
    `-Dartifact=${coords}`,
    `-DoutputDirectory=${dir}`,
  ]);
  if (r.code !== 0) throw mavenError(name, r.stdout + r.stderr);
  const archive = fs.readdirSync(dir).find((f) => f.endsWith('.tar.gz'));
  if (!archive) throw new InfraError(`Maven downloaded no .tar.gz for ${coords}`);
  const t = await run('tar', ['xzf', archive], { cwd: dir });
  if (t.code !== 0) throw new InfraError(`could not unpack ${archive}: ${t.stderr.trim()}`);
  fs.rmSync(path.join(dir, archive));
  fs.writeFileSync(path.join(dir, '.complete'), new Date().toISOString());
  return dir;
}

function mavenError(name: string, output: string): InfraError {
  const tail = output.trim().split('\n').slice(-8).join('\n');
  return new InfraError(`Maven could not resolve ${name}:\n${tail}`, {
    retriable: true,
    fix: 'check that Maven Central (or your Maven mirror in ~/.m2/settings.xml) is reachable, then run again',
  });
}
