import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_CATALOG } from '../cli/env-catalog.ts';
import { ROLES } from '../cli/role-list.ts';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is checked two ways: with
 * `docker compose config` when a Compose CLI is present, and always against the code it runs: every
 * role has a service built from infra/Dockerfile, and every setting it passes is one Tributary reads.
 */
const file = fs.readFileSync('docker-compose.yml', 'utf8');
const compose = parse(file, { merge: true }) as {
  services: Record<
    string,
    { build?: { dockerfile: string }; command?: string[]; environment?: Record<string, unknown> }
  >;
};

describe('docker-compose.yml', () => {
  it('runs every pipeline role from the project image, with settings Tributary knows', () => {
    const known = new Set(ENV_CATALOG.flatMap(({ schema }) => Object.keys(schema.properties)));
    for (const role of ROLES) {
      const service = compose.services[role.name];
      expect(service, `service for role ${role.name}`).toBeDefined();
      expect(service!.build?.dockerfile).toBe('infra/Dockerfile');
      expect(service!.command).toEqual(['start', '--no-infra', '--role', role.name]);
      for (const name of Object.keys(service!.environment ?? {}))
        expect(known, `${role.name}: ${name}`).toContain(name);
    }
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['kafka', 'postgres', 'registry', 'mongo', 'setup']),
    );
    expect(fs.existsSync('infra/Dockerfile')).toBe(true);
  });

  it('passes `config` of the Compose CLI when one is installed (.ci/run installs one beside a docker CLI)', () => {
    const cli = [['docker', 'compose'], ['docker-compose']].find(
      ([cmd, ...sub]) => spawnSync(cmd!, [...sub, 'version'], { stdio: 'ignore' }).status === 0,
    );
    // Without any Compose CLI this checks that the file parses as YAML with services, as above.
    expect(Object.keys(compose.services).length).toBeGreaterThan(4);
    if (cli) {
      const [cmd, ...sub] = cli;
      const result = spawnSync(cmd!, [...sub, '-f', 'docker-compose.yml', 'config', '-q'], {
        encoding: 'utf8',
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    }
  });
});
