import { createKafka } from '../../common/kafka.ts';
import { createRoleMetrics, startMetricsReporter } from '../../common/metrics.ts';
import { createSchemaRegistry } from '../../common/registry.ts';
import type { RoleDefinition } from '../../runtime/role.ts';
import { closeInOrder } from '../shared/lifecycle.ts';
import { processorOptions } from './options.ts';
import { createStreamProcessor } from './processor.ts';

/** The `processor` role: builds its clients once, runs the join, reports metrics. */
export const processorRole: RoleDefinition = {
  name: 'processor',
  description: 'joins raw workspaces and jobs into gold records, exactly once',
  async start({ infra, env, logger, liveness }) {
    const options = processorOptions(env);
    const kafka = createKafka(infra.kafka, `tributary-processor-${process.pid}`, logger);
    const metrics = createRoleMetrics('processor');
    const processor = createStreamProcessor({
      kafka,
      registry: createSchemaRegistry(infra.registry),
      options,
      metrics,
      logger,
      liveness,
    });
    const reporter = await startMetricsReporter({
      kafka,
      topic: options.topics.metrics,
      metrics: [metrics],
      onError: (err) => logger.warn({ err }, 'metrics publish failed'),
    });
    try {
      await processor.start();
    } catch (err) {
      await reporter.stop().catch((e) => logger.warn({ err: e }, 'metrics reporter did not stop'));
      throw err;
    }
    return {
      summary: `group ${options.groupId}, transactional ids ${options.groupId}.task-<partition>`,
      metrics: [metrics],
      async close() {
        await closeInOrder(
          [
            ['processor', () => processor.close()],
            ['metrics reporter', () => reporter.stop()],
          ],
          logger,
        );
      },
    };
  },
};
