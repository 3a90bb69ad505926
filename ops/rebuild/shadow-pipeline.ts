import { instanceId } from '../../common/instance.ts';
import type { Logger } from '../../common/logger.ts';
import {
  type GoldSinkRoleOptions,
  goldMongoRole,
  goldPostgresRole,
} from '../../consumers/gold-sinks/role.ts';
import type { ProcessorOptions } from '../../consumers/processor/options.ts';
import { processorRole } from '../../consumers/processor/role.ts';
import { closeInOrder } from '../../consumers/shared/lifecycle.ts';
import { createClientFactory } from '../../runtime/clients.ts';
import type { InfraOptions } from '../../runtime/endpoints.ts';
import type { RoleDefinition, RunningRole } from '../../runtime/role.ts';
import { startRole } from '../../runtime/start-role.ts';
import type { GoldTarget, ShadowNames } from './names.ts';

/**
 * The shadow pipeline of a rebuild, in this process: the processor and gold-sink roles themselves,
 * started with their options as the environment gives them (timings, batch sizes) and the names
 * replaced by the shadow's: the processor reads the raw topics from the beginning into the shadow
 * gold topic (with its own group, transactional ids and state topic), the sinks write that topic
 * to the shadow table and collection. Each role gets clients of its own, closed with it; their
 * metrics stay in this process, so the dashboard does not count a rebuild as the pipeline's work.
 */
export interface ShadowPipeline {
  close(): Promise<void>;
}

export async function startShadowPipeline(
  deps: { infra: InfraOptions; env: NodeJS.ProcessEnv; logger: Logger },
  target: GoldTarget,
  names: ShadowNames,
): Promise<ShadowPipeline> {
  const { logger } = deps;
  const processorOptions = shadowProcessorOptions(processorRole.options(deps.env), target, names);
  // The two sinks read the same options (consumers/gold-sinks/options.ts); each picks its group.
  const sinkOptions = shadowSinkOptions(goldPostgresRole.options(deps.env), target, names);

  const instance = instanceId(deps.env);
  const start = async <O>(def: RoleDefinition<O>, options: O): Promise<RunningRole> => {
    const roleLogger = logger.child({ shadow: def.name });
    return startRole(def, options, {
      infra: deps.infra,
      instance,
      logger: roleLogger,
      // named apart from the pipeline's own roles in the groups' member lists and the brokers' logs
      clients: createClientFactory({
        endpoints: deps.infra,
        logger: roleLogger,
        instance,
        name: `rebuild-gold-${def.name}`,
        publishMetrics: false,
      }),
    });
  };

  let processor: RunningRole | undefined;
  const sinks: RunningRole[] = [];
  const close = () =>
    closeInOrder(
      [
        ['shadow processor', async () => processor?.close()],
        ['shadow sinks', () => Promise.all(sinks.map((s) => s.close()))],
      ],
      logger,
    );
  try {
    processor = await start(processorRole, processorOptions);
    sinks.push(await start(goldPostgresRole, sinkOptions));
    sinks.push(await start(goldMongoRole, sinkOptions));
  } catch (err) {
    await close().catch((e) => logger.warn({ err: e }, 'closing the shadow after a failed start failed')); // the start error is rethrown
    throw err;
  }
  return { close };
}

/** The processor's options with the shadow's topics, group and transactional ids. */
export function shadowProcessorOptions(
  options: ProcessorOptions,
  target: GoldTarget,
  names: ShadowNames,
): ProcessorOptions {
  return {
    ...options,
    groupId: names.processorGroup,
    legacyTransactionalId: `${names.processorGroup}.${names.processorInstance}`,
    topics: {
      ...options.topics,
      workspaces: target.rawTopics.workspaces,
      jobs: target.rawTopics.jobs,
      gold: names.goldTopic,
      dlq: names.processorDlqTopic,
      state: names.stateTopic,
    },
  };
}

/** The gold sinks' options with the shadow's topic, groups, table and collection. */
export function shadowSinkOptions(
  options: GoldSinkRoleOptions,
  target: GoldTarget,
  names: ShadowNames,
): GoldSinkRoleOptions {
  return {
    ...options,
    topic: names.goldTopic,
    groupIds: { postgres: names.postgresGroup, mongo: names.mongoGroup },
    table: names.table,
    mongo: { database: target.mongo.database, collection: names.collection },
  };
}
