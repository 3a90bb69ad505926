import path from 'node:path';
import { InfraError } from '../../common/errors.ts';
import { maskUrl } from '../../common/url.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { createJavaService } from '../java-service.ts';
import { resolveArchive } from '../maven.ts';
import type { Health, LocalService } from '../service.ts';

/**
 * Apicurio Registry 3.x from Maven Central, storing schemas in the project's Postgres (database
 * "registry") so they survive restarts. Clients use its Confluent-compatible API at
 * <base>/apis/ccompat/v7.
 */
export const APICURIO_VERSION = '3.0.9';
const APICURIO_COORDS = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

export async function registryHealth(url: string): Promise<Health> {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(5000) });
    return res.ok
      ? { healthy: true, detail: 'Confluent API answers' }
      : { healthy: false, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  }
}

export function createRegistryService(opts: InfraOptions): LocalService {
  const url = opts.registry.url;
  return createJavaService({
    name: 'registry',
    endpoint: maskUrl(url),
    port: opts.registry.port,
    ports: [{ port: opts.registry.port, envVar: 'TRIBUTARY_REGISTRY_PORT' }],
    dataDir: opts.dataDir,
    readyTimeoutMs: 120_000,
    stopGraceMs: 20_000,
    health: () => registryHealth(url),
    env: {
      ...process.env,
      QUARKUS_HTTP_HOST: '127.0.0.1',
      QUARKUS_HTTP_PORT: String(opts.registry.port),
      QUARKUS_PROFILE: 'prod',
      APICURIO_STORAGE_KIND: 'sql',
      APICURIO_STORAGE_SQL_KIND: 'postgresql',
      APICURIO_DATASOURCE_URL: `jdbc:postgresql://127.0.0.1:${opts.postgres.port}/registry`,
      APICURIO_DATASOURCE_USERNAME: 'tributary',
      APICURIO_DATASOURCE_PASSWORD: opts.postgres.password,
      APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: '2',
      APICURIO_DATASOURCE_JDBC_MIN_SIZE: '2',
      APICURIO_DATASOURCE_JDBC_MAX_SIZE: '10',
      QUARKUS_LOG_LEVEL: 'WARN',
      QUARKUS_LOG_CATEGORY__IO_APICURIO__LEVEL: 'INFO',
    },
    async prepare(log) {
      const home = await resolveArchive(
        opts.cacheDir,
        `apicurio-registry-${APICURIO_VERSION}`,
        APICURIO_COORDS,
        log,
      );
      const jar = path.join(home, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
      return ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', '-jar', jar];
    },
    async afterReady() {
      await setGlobalCompatibility(url, 'BACKWARD');
    },
  });
}

/** Confluent `PUT /config`: the default compatibility rule for every subject. */
export async function setGlobalCompatibility(url: string, level: string): Promise<void> {
  const res = await fetch(`${url}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: level }),
  });
  if (!res.ok)
    throw new InfraError(`could not set registry compatibility: HTTP ${res.status} ${await res.text()}`);
}
