import closeWithGrace from 'close-with-grace';
import { describeError } from '../common/errors.ts';
import { createLogger } from '../common/logger.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import { startGateway } from './gateway.ts';
import { gatewayOptions } from './options.ts';
import { walksOptions } from './walks/options.ts';

/**
 * The gateway as its own process: `node --import tsx gateway/server.ts`. Settings come from the
 * environment (gateway/options.ts and runtime/endpoints.ts); SIGINT/SIGTERM close it once, within a
 * deadline, letting the tick and requests in flight finish.
 */
const logger = createLogger('gateway', process.env.TRIBUTARY_LOG_LEVEL);
try {
  const gateway = await startGateway({
    options: gatewayOptions(process.env),
    infra: infraOptions(process.env),
    logger,
    walks: walksOptions(process.env),
  });
  logger.info(`dashboard at ${gateway.url}/, API docs at ${gateway.url}/docs`);
  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err: describeError(err) }, 'fatal error');
    logger.info({ signal }, 'shutting down');
    await gateway.close();
  });
} catch (err) {
  console.error(`gateway: ${describeError(err)}`);
  process.exitCode = 1;
}
