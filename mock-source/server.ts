import closeWithGrace from 'close-with-grace';
import { describeError } from '../common/errors.ts';
import { createLogger } from '../common/logger.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import { startMockSource } from './index.ts';
import { mockSourceOptions } from './options.ts';

/**
 * Runs the mock source alone: `node --import tsx mock-source/server.ts`. Settings come from the
 * environment (see options.ts; its world lives in the Postgres of TRIBUTARY_POSTGRES_URL or the local
 * one); Ctrl-C or SIGTERM closes it once, with a deadline.
 */
async function main(): Promise<void> {
  const logger = createLogger('mock-source', process.env.TRIBUTARY_LOG_LEVEL);
  const handle = await startMockSource(mockSourceOptions(process.env), {
    logger,
    postgresUrl: infraOptions(process.env).postgres.url,
  });
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    logger.info({ signal }, 'shutting down');
    await handle.close();
  });
}

main().catch((err) => {
  console.error(`mock-source: ${describeError(err)}`);
  process.exitCode = 1;
});
