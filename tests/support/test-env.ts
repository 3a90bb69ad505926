import path from 'node:path';

/**
 * The environment of the test suite's own infrastructure instance: its own data folder and ports
 * (so a running `npm start` is never touched), and no external endpoints even if the developer's
 * shell has some set.
 */
export function testInfraEnv(
  base: NodeJS.ProcessEnv = process.env,
  opts: { name?: string; portOffset?: number } = {},
) {
  const offset = opts.portOffset ?? Number(base.TRIBUTARY_TEST_PORT_OFFSET ?? 100);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !k.startsWith('TRIBUTARY_')) env[k] = v;
  }
  for (const k of ['TRIBUTARY_CACHE_DIR', 'TRIBUTARY_PG_BIN', 'TRIBUTARY_CHROMIUM']) {
    if (base[k]) env[k] = base[k]!;
  }
  Object.assign(env, {
    TRIBUTARY_DATA_DIR: path.resolve('.tributary', opts.name ?? 'test'),
    TRIBUTARY_KAFKA_PORT: String(19092 + offset),
    TRIBUTARY_REGISTRY_PORT: String(18081 + offset),
    TRIBUTARY_POSTGRES_PORT: String(15432 + offset),
    TRIBUTARY_MONGODB_PORT: String(17017 + offset),
  });
  return env;
}
