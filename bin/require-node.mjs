// Stops at once, naming the version to install, when this Node.js is older than package.json's
// `engines.node` (a ">=X.Y[.Z]" range). Plain JavaScript with no imports beyond node:, so that it runs
// on an old Node before anything that would fail there in a less readable way (tsx, dependencies).
// `npm start` and `npm test` run it first (their pre-scripts); bin/tributary.mjs imports it.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = new URL('../package.json', import.meta.url);

/** The minimum version from an engines range such as ">=22.12", as [major, minor, patch]. */
export function minimumVersion(range) {
  const match = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range ?? '');
  if (!match) throw new Error(`package.json engines.node must read ">=X.Y", not ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** true when `version` ("22.23.5") is at least `minimum` ([22, 12, 0]). */
export function satisfies(version, minimum) {
  const have = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== minimum[i]) return (have[i] ?? 0) > minimum[i];
  }
  return true;
}

export function requireSupportedNode(version = process.versions.node) {
  const range = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')).engines?.node;
  const minimum = minimumVersion(range);
  if (satisfies(version, minimum)) return;
  process.stderr.write(
    `tributary needs Node.js ${range} (an LTS release); this is Node.js ${version}.\n` +
      `  fix: install Node.js ${minimum[0]} (https://nodejs.org/en/download, \`nvm install ${minimum[0]}\`), ` +
      `or run \`export PATH="$(bash .ci/node.sh):$PATH"\` in this folder, which installs it under ~/.cache/tributary\n`,
  );
  process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  requireSupportedNode();
}
