import { createRoleMetrics } from '../../common/metrics.ts';
import type { RoleDefinition } from '../../runtime/role.ts';
import { type ProcessorOptions, processorOptions } from './options.ts';
import { createStreamProcessor } from './processor.ts';

/** The `processor` role: runs the join with the role's clients, reports metrics. */
export const processorRole: RoleDefinition<ProcessorOptions> = {
  name: 'processor',
  description: 'joins raw workspaces and jobs into gold records, exactly once',
  options: processorOptions,
  async start({ clients, logger, liveness }, options) {
    const metrics = createRoleMetrics('processor');
    const processor = createStreamProcessor({
      kafka: clients.kafka(),
      registry: clients.registry(),
      options,
      metrics,
      logger,
      liveness,
    });
    await clients.publishMetrics({
      topic: options.topics.metrics,
      metrics: [metrics],
      onError: (err) => logger.warn({ err }, 'metrics publish failed'),
    });
    await processor.start();
    return {
      summary: `group ${options.groupId}, transactional ids ${options.groupId}.task-<partition>`,
      metrics: [metrics],
      // the metrics publisher and its producer are closed after this, by the runtime
      close: () => processor.close(),
    };
  },
};
