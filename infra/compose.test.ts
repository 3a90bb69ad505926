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
interface Service {
  build?: { dockerfile: string };
  command?: string[];
  environment?: Record<string, unknown>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
}
const compose = parse(file, { merge: true }) as { services: Record<string, Service> };
const SERVERS = ['kafka', 'registry', 'postgres', 'mongo'];
// what `${VAR:?message}` needs to resolve, for the Compose CLI
const TOKENS = { TRIBUTARY_SOURCE_TOKEN: 'a'.repeat(32), TRIBUTARY_GATEWAY_TOKEN: 'b'.repeat(32) };

function composeCli(): string[] | undefined {
  return [['docker', 'compose'], ['docker-compose']].find(
    ([cmd, ...sub]) => spawnSync(cmd!, [...sub, 'version'], { stdio: 'ignore' }).status === 0,
  );
}

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

  it('has no default tokens: every token must be set, or compose stops and says which', () => {
    const tokens = Object.entries(compose.services).flatMap(([name, service]) =>
      Object.entries(service.environment ?? {})
        .filter(([key]) => /TOKEN$/.test(key))
        .map(([key, value]) => ({ name, key, value: String(value) })),
    );
    expect(tokens.map((t) => t.key)).toEqual(
      expect.arrayContaining([
        'TRIBUTARY_SOURCE_TOKEN',
        'TRIBUTARY_MOCK_SOURCE_API_TOKEN',
        'TRIBUTARY_GATEWAY_TOKEN',
      ]),
    );
    for (const { name, key, value } of tokens) {
      expect(value, `${name}: ${key}`).toMatch(/^\$\{(TRIBUTARY_[A-Z_]+):\?set \1 to .+\}$/);
    }
    // no `${VAR:-fallback}` and no literal value for anything secret, anywhere in the file
    expect(file).not.toMatch(/TOKEN:-/);
    expect(file).not.toMatch(/change-me/);
  });

  it('keeps the data of Kafka in its volume', () => {
    const kafka = compose.services.kafka!;
    const logDirs = String(kafka.environment?.KAFKA_LOG_DIRS);
    expect(kafka.volumes).toContain(`kafka-data:${logDirs}`);
  });

  it('starts setup and every role only once the servers are healthy', () => {
    for (const server of SERVERS) {
      expect(compose.services[server]!.healthcheck?.test.length, server).toBeGreaterThan(1);
    }
    for (const name of ['setup', ...ROLES.map((r) => r.name)]) {
      const deps = compose.services[name]!.depends_on as Record<string, { condition: string }>;
      for (const server of SERVERS)
        expect(deps[server], `${name} -> ${server}`).toEqual({ condition: 'service_healthy' });
      if (name !== 'setup') expect(deps.setup).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('passes `config` of the Compose CLI when one is installed (.ci/run installs one beside a docker CLI)', () => {
    const cli = composeCli();
    // Without any Compose CLI this checks that the file parses as YAML with services, as above.
    expect(Object.keys(compose.services).length).toBeGreaterThan(4);
    if (cli) {
      const [cmd, ...sub] = cli;
      const config = (env: Record<string, string>) =>
        spawnSync(cmd!, [...sub, '-f', 'docker-compose.yml', 'config', '-q'], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        });
      const ok = config(TOKENS);
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      const missing = config({ TRIBUTARY_SOURCE_TOKEN: TOKENS.TRIBUTARY_SOURCE_TOKEN });
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain('set TRIBUTARY_GATEWAY_TOKEN to a random secret');
    }
    // docker-compose 1.x is a Python program: four runs of it take seconds on a busy machine
  }, 60_000);
});
