import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { maskUrl } from '../../common/url.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import { createJavaService } from '../java-service.ts';
import { resolveJars } from '../maven.ts';
import type { Health, LocalService } from '../service.ts';

/**
 * A MongoDB-wire server: mongo-java-server (≥ 1.47.0, whose wire version the Node driver 7 accepts)
 * with its H2 file backend, run as a single-file Java program. Chosen over FerretDB because it
 * needs only the JVM the other servers already use, and no Go build on first start.
 */
export const MONGO_BUNDLE = {
  name: 'mongo-java-server-1.47.0',
  dependencies: ['de.bwaldvogel:mongo-java-server-h2-backend:1.47.0', 'org.slf4j:slf4j-simple:2.0.16'],
};
const SERVER_SOURCE = fileURLToPath(new URL('../mongo/TributaryMongoServer.java', import.meta.url));

export async function mongoHealth(url: string): Promise<Health> {
  // 5 s: a loaded 2-core CI machine (the suite plus a CPU hog) answers a first connection slowly
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    return { healthy: true, detail: `wire-compatible MongoDB ${info.version}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  } finally {
    await client.close().catch(() => {}); // the probe's answer is decided above; nothing is left open either way
  }
}

export function createMongoService(opts: InfraOptions): LocalService {
  const dataFile = path.join(opts.dataDir, 'mongodb', 'data.mv.db');
  return createJavaService({
    name: 'mongodb',
    endpoint: maskUrl(opts.mongo.url),
    port: opts.mongo.port,
    ports: [{ port: opts.mongo.port, envVar: 'TRIBUTARY_MONGODB_PORT' }],
    dataDir: opts.dataDir,
    readyTimeoutMs: 60_000,
    stopGraceMs: 10_000,
    health: () => mongoHealth(opts.mongo.url),
    async prepare(log) {
      const lib = await resolveJars(opts.cacheDir, MONGO_BUNDLE, log);
      return [
        '-Xms64m',
        '-Xmx384m',
        '-XX:+UseSerialGC',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        path.join(lib, '*'),
        SERVER_SOURCE,
        '127.0.0.1',
        String(opts.mongo.port),
        dataFile,
      ];
    },
  });
}
