import { execFileSync, spawnSync } from 'node:child_process';
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

  it('is valid for the Compose CLI, when one is installed', () => {
    const cli = [['docker', 'compose'], ['docker-compose']].find(
      ([cmd, ...sub]) => spawnSync(cmd!, [...sub, 'version'], { stdio: 'ignore' }).status === 0,
    );
    if (!cli) {
      // No Compose CLI on this machine: the structural test above is the check that ran.
      expect(spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status).not.toBe(0);
      return;
    }
    const [cmd, ...sub] = cli;
    expect(() =>
      execFileSync(cmd!, [...sub, '-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});
