import { type Admin, AssignerProtocol, type Kafka } from 'kafkajs';
import { describeError } from '../common/errors.ts';
import { keepConsumerRunning } from '../common/keep-running.ts';
import type { Probe } from '../common/liveness.ts';
import type { Logger } from '../common/logger.ts';
import type { ApiName } from './apis.ts';
import { apiOfPartition, apiPartition, ownershipAssigner } from './ownership.ts';

/**
 * This process's membership of the pollers' group (producers/ownership.ts): a consumer of the
 * poller-state topic whose only job is to be assigned partitions, i.e. APIs. It reads nothing it
 * uses and commits nothing. Each join (GROUP_JOIN) hands the APIs of the new assignment to
 * `onAssignment`, in order; a crash is reported (`onLost`): kafkajs leaves the group, so another
 * member may be given those APIs (whose producers then fence this process's), and this process gets
 * an assignment again when its consumer rejoins.
 */
export interface Ownership {
  /** joins the group; throws when the consumer cannot connect or subscribe */
  start(): Promise<void>;
  /** leaves the group (the other members take the APIs over); once */
  close(): Promise<void>;
}

export function createOwnership(deps: {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** the APIs this process may poll (TRIBUTARY_POLLERS) */
  eligible: readonly ApiName[];
  /** the APIs it polls right now, read at each join (the assignment keeps them here when it can) */
  running: () => ApiName[];
  instance: string;
  sessionTimeoutMs: number;
  logger: Logger;
  probe?: Probe;
  onAssignment: (apis: ApiName[], memberId: string) => void;
  onLost: (reason: string) => void;
}): Ownership {
  const { logger, groupId } = deps;
  const assigner = ownershipAssigner({
    topic: deps.topic,
    claim: () => ({ eligible: deps.eligible, running: deps.running(), instance: deps.instance }),
    // Runs in the process that leads the group: one line per rebalance with the whole outcome.
    onAssigned: (result, claims) => {
      const instanceOf = new Map(claims.map((c) => [c.memberId, c.instance ?? c.memberId]));
      const owners = Object.fromEntries(
        [...result.byMember].map(([member, apis]) => [instanceOf.get(member) ?? member, apis]),
      );
      logger.info({ group: groupId, owners }, 'pollers group: APIs assigned');
      if (result.unassigned.length > 0)
        logger.warn(
          { group: groupId, unassigned: result.unassigned },
          'no member of the pollers group may poll these APIs (TRIBUTARY_POLLERS of every process leaves them out)',
        );
      const names = claims.map((c) => c.instance).filter((i): i is string => i !== undefined);
      const twins = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
      if (twins.length > 0)
        logger.warn(
          { group: groupId, instances: twins },
          'several pollers processes run with the same TRIBUTARY_INSTANCE_ID: harmless (the group gives each API to one of them) but their client ids and logs cannot be told apart; give each its own',
        );
    },
  });

  const kept = keepConsumerRunning({
    groupId,
    topics: [deps.topic],
    logger,
    probe: deps.probe,
    create: () =>
      deps.kafka.consumer({
        groupId,
        partitionAssigners: [assigner],
        sessionTimeout: deps.sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(deps.sessionTimeoutMs / 6)),
        // short fetch waits: kafkajs heartbeats between fetches
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
      }),
    onCrash: (err) => deps.onLost(`the pollers group consumer crashed: ${describeError(err)}`),
    run: async (consumer) => {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const partitions = payload.memberAssignment[deps.topic] ?? [];
        const apis = partitions.map(apiOfPartition).filter((a): a is ApiName => a !== undefined);
        logger.info({ group: groupId, memberId: payload.memberId, apis }, 'joined the pollers group');
        deps.onAssignment(apis, payload.memberId);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: deps.topic, fromBeginning: false });
      // The state records are read by the pollers themselves (state-store.ts): nothing to do here.
      await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
    },
  });

  return { start: () => kept.start(), close: () => kept.close() };
}

/**
 * Which member of the group holds an API now, by the group's own record (DescribeGroups): how a
 * fenced poller tells "the group moved it" from "something outside the group writes with its id".
 * Undefined while the group is rebalancing or when nobody holds it.
 */
export async function ownerOf(
  admin: Admin,
  groupId: string,
  topic: string,
  api: ApiName,
): Promise<{ memberId: string; clientId: string; host: string } | undefined> {
  const { groups } = await admin.describeGroups([groupId]);
  for (const m of groups[0]?.members ?? []) {
    const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
    if ((assignment[topic] ?? []).includes(apiPartition(api)))
      return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost.replace(/^\//, '') };
  }
  return undefined;
}
