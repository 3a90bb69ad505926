import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Batch, Consumer, Kafka, Message } from 'kafkajs';
import { describeError } from '../../common/errors.ts';
import { createTopicLimits, sendWithinLimits } from '../../common/kafka-limits.ts';
import { keepConsumerRunning } from '../../common/keep-running.ts';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { registerValueSchema } from '../../common/registry.ts';
import { PROCESSOR_METRICS } from '../../contracts/metrics/index.ts';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import { avroType } from '../../schemas/index.ts';
import { createAvroDecoder } from '../shared/avro-decoder.ts';
import { consumerConfig } from '../shared/consumer-config.ts';
import { closeInOrder } from '../shared/lifecycle.ts';
import { applyBatch, type BatchOutput, type DecodedBatch } from './apply-batch.ts';
import { restoreState } from './changelog.ts';
import type { JoinState } from './join-state.ts';
import type { ProcessorOptions } from './options.ts';
import { taskAssigner } from './task-assigner.ts';
import { createTaskProducers, initialiseOnce, isFenced, taskTransactionalId } from './tasks.ts';

/**
 * The stream processor: a foreign-key table–table join of the latest job with the latest state of
 * its workspace, as exactly-once consume–transform–produce. Per input batch, ONE Kafka transaction
 * holds the gold records, the dead letters, the changelog entries of the state that changed, and
 * the consumed offsets; a crash anywhere leaves either all of it or none of it. Each task (input
 * partition number) has its own transactional producer, which fences a zombie (tasks.ts).
 */
export interface StreamProcessor {
  start(): Promise<void>;
  /** Finishes the batch in flight (its transaction commits), leaves the group, closes clients. */
  close(): Promise<void>;
}

export function createStreamProcessor(deps: {
  kafka: Kafka;
  registry: SchemaRegistry;
  options: ProcessorOptions;
  metrics: RoleMetrics;
  logger: Logger;
  now?: () => number;
  /** the role's liveness: the consume loop reports membership, waiting messages and commits */
  liveness?: Liveness;
}): StreamProcessor {
  const { kafka, registry, options, metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const { topics } = options;
  const goldTotal = metrics.counter(PROCESSOR_METRICS.goldRecords);
  const dlqTotal = metrics.counter(PROCESSOR_METRICS.deadLettered);
  const unresolved = metrics.gauge(PROCESSOR_METRICS.unresolvedJobs);
  const restoreSeconds = metrics.gauge(PROCESSOR_METRICS.restoreSeconds);

  const tasks = createTaskProducers({ kafka, groupId: options.groupId, logger });
  const admin: Admin = kafka.admin();
  const limits = createTopicLimits({ admin });
  const decoders = {
    workspace: createAvroDecoder<Workspace>({ registry, readerType: avroType('workspace') }),
    job: createAvroDecoder<EnrichmentJob>({ registry, readerType: avroType('enrichment-job') }),
  };
  let unresolvedAt = 0;
  const states = new Map<number, JoinState>();
  let assigned = new Set<number>();
  let goldSchemaId = 0;
  /** the group member this instance was last; a new one means the group may have moved on without us */
  let memberId: string | undefined;
  /**
   * `topic/partition` → the group's committed offset, read right after the task's producer was
   * initialised: a previous owner may have committed after our consumer fetched its position.
   */
  const floors = new Map<string, bigint>();

  /**
   * The in-memory states are only right for the session that built them. After a crash, or when
   * the group took our membership away (a new member id: another instance may have processed our
   * partitions meanwhile), every state is dropped and restored from the changelog at the next batch.
   */
  function forgetStates(why: string): void {
    if (states.size > 0) logger.warn({ partitions: [...states.keys()], why }, 'processor states dropped');
    states.clear();
    assigned = new Set();
    tasks.dropAll();
    floors.clear();
  }

  /** A task's state and producer go together: whoever restores it next initialises its id first. */
  function dropTask(partition: number): void {
    states.delete(partition);
    tasks.drop(partition);
    for (const t of [topics.workspaces, topics.jobs]) floors.delete(`${t}/${partition}`);
  }

  const probe = deps.liveness?.probe(`group ${options.groupId} (${topics.workspaces}, ${topics.jobs})`);
  const kept = keepConsumerRunning({
    groupId: options.groupId,
    topics: [topics.workspaces, topics.jobs],
    logger,
    probe,
    create: (): Consumer =>
      kafka.consumer(
        consumerConfig(
          options.groupId,
          {
            sessionTimeoutMs: options.sessionTimeoutMs,
            heartbeatIntervalMs: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
          },
          { maxBytesPerPartition: options.maxBytesPerPartition, partitionAssigners: [taskAssigner] },
        ),
      ),
    onCrash: (err) => {
      forgetStates(`consumer crashed: ${describeError(err)}`);
      memberId = undefined;
    },
    run: async (consumer) => {
      /** a task was taken over by another instance: nothing is processed until the group rejoins */
      let fenced: Error | undefined;
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        fenced = undefined; // the group has decided again: carry on with what it gives us
        if (memberId !== undefined && payload.memberId !== memberId) forgetStates('rejoined as a new member');
        memberId = payload.memberId;
        // Both topics are co-partitioned: the partitions of either one name the states we need.
        const mine = new Set<number>();
        for (const t of [topics.workspaces, topics.jobs])
          for (const p of payload.memberAssignment[t] ?? []) mine.add(p);
        assigned = mine;
        for (const p of new Set([...states.keys(), ...tasks.partitions()])) if (!mine.has(p)) dropTask(p);
        logger.info({ partitions: [...mine] }, 'processor assignment');
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.workspaces, topics.jobs], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.isEmpty() || !isRunning() || isStale()) return;
          if (fenced) throw fenced;
          const seek = (offset: bigint) =>
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: offset.toString() });
          try {
            if ((await handleBatch(batch, heartbeat, seek)) === 'moved') return;
          } catch (err) {
            probe?.failed(err);
            if (isFenced(err)) {
              dropTask(batch.partition);
              // A zombie: the group gave this task to another instance, whose producer fenced ours.
              // Never retry (re-initialising the id would fence the owner): drop the task and
              // process nothing until the group has rejoined (kafkajs rejoins when it learns it was
              // dropped, or the error, not retriable, crashes the consumer and keep-running
              // restarts it); then carry on with the tasks the group gives.
              fenced = err as Error;
              logger.warn(
                {
                  partition: batch.partition,
                  topic: batch.topic,
                  transactionalId: taskTransactionalId(options.groupId, batch.partition),
                  err: describeError(err),
                },
                'processor transaction refused: producer fenced, another instance owns this task now; its state is dropped',
              );
            }
            throw err; // kafkajs retries the batch, then restarts the consumer (or we do)
          }
          probe?.progressed();
          resolveOffset(batch.lastOffset());
          await heartbeat();
        },
      });
    },
  });

  /**
   * Opens the producers of tasks we have no state for. Initialising `<group>.task-<p>` fences any
   * other holder (a zombie) and completes its open transaction, so the committed offsets read next
   * and the changelog restored after are final: nobody else can commit for these tasks any more.
   */
  async function openTasks(partitions: number[]): Promise<void> {
    await Promise.all(partitions.map((p) => tasks.open(p)));
    const committed = await admin.fetchOffsets({
      groupId: options.groupId,
      topics: [topics.workspaces, topics.jobs],
    });
    for (const t of committed)
      for (const { partition, offset } of t.partitions)
        if (partitions.includes(partition) && BigInt(offset) >= 0n)
          floors.set(`${t.topic}/${partition}`, BigInt(offset));
  }

  async function ensureState(partition: number, heartbeat: () => Promise<void>): Promise<JoinState> {
    const have = states.get(partition);
    if (have && tasks.get(partition)) return have;
    const missing = [...new Set([...assigned, partition])].filter((p) => !states.has(p) || !tasks.get(p));
    await openTasks(missing);
    const started = Date.now();
    const restored = await restoreState({
      kafka,
      admin,
      producerFor: (p) => tasks.get(p)!,
      topic: topics.state,
      partitions: missing,
      groupPrefix: options.groupId,
      heartbeat,
    });
    for (const [p, s] of restored) states.set(p, s);
    const seconds = (Date.now() - started) / 1000;
    restoreSeconds.set(seconds);
    const jobs = [...restored.values()].reduce((n, s) => n + s.jobCount, 0);
    logger.info({ partitions: missing, jobs, seconds }, 'processor state restored');
    return states.get(partition)!;
  }

  async function handleBatch(
    batch: Batch,
    heartbeat: () => Promise<void>,
    seek: (offset: bigint) => void,
  ): Promise<number | 'moved'> {
    const p = batch.partition;
    const state = await ensureState(p, heartbeat);
    const floorKey = `${batch.topic}/${p}`;
    const floor = floors.get(floorKey);
    floors.delete(floorKey);
    if (floor !== undefined && BigInt(batch.firstOffset() ?? floor) < floor) {
      // The previous owner committed past our fetch position before we fenced it: its output and
      // state are in, so this batch starts at what it committed.
      logger.warn(
        { topic: batch.topic, partition: p, from: batch.firstOffset(), committed: floor.toString() },
        'processor position behind the committed offset after taking the task over; seeking to it',
      );
      seek(floor);
      return 'moved';
    }
    const input = await decodeBatch(batch);
    try {
      const { gold, changelog, dlq } = applyBatch({
        batch,
        input,
        state,
        processedAt: now(),
        writer: options.groupId,
      });
      await commitBatch(batch, gold, changelog, dlq);
      goldTotal.inc(gold.length);
      dlqTotal.inc(dlq.length);
      return gold.length;
    } catch (err) {
      // The in-memory state already holds this batch: drop the task (state and producer); a retry
      // re-initialises the producer and restores the state from the changelog.
      dropTask(p);
      throw err;
    } finally {
      // Counting walks every workspace's jobs: once a second, not per batch (8 % of the CPU in a
      // backfill profile, bench/pipeline.ts --cpu-prof).
      if (now() - unresolvedAt >= 1000) {
        unresolvedAt = now();
        unresolved.set([...states.values()].reduce((n, s) => n + s.unresolvedJobs(), 0));
      }
    }
  }

  /**
   * One registry request per new schema id, then synchronous decoding with the reader schema of the
   * batch's topic; a registry that cannot be reached throws a retriable error here, before any state
   * changes (the batch is redelivered), instead of dead-lettering valid records as undecodable.
   */
  async function decodeBatch(batch: Batch): Promise<DecodedBatch> {
    const values = batch.messages.map((m) => m.value);
    if (batch.topic === topics.workspaces) {
      await decoders.workspace.prepare(values);
      return { kind: 'workspaces', decoded: values.map((v) => decoders.workspace.decode(v)) };
    }
    await decoders.job.prepare(values);
    return { kind: 'jobs', decoded: values.map((v) => decoders.job.decode(v)) };
  }

  /** One transaction: the batch's output, its changelog entries and its consumed offset. */
  async function commitBatch(
    batch: Batch,
    gold: BatchOutput['gold'],
    changelog: BatchOutput['changelog'],
    dlq: Message[],
  ): Promise<void> {
    const p = batch.partition;
    const goldMessages = await Promise.all(
      gold.map(async (g) => ({ key: g.job_id, value: await registry.encode(goldSchemaId, g) })),
    );
    const tx = await tasks.get(p)!.transaction();
    try {
      // A backlog makes input batches large: their output goes out in requests that fit the topics.
      await sendWithinLimits(
        limits,
        [
          { topic: topics.gold, messages: goldMessages },
          { topic: topics.state, messages: changelog },
          { topic: topics.dlq, messages: dlq },
        ],
        (topicMessages) => tx.sendBatch({ topicMessages }),
      );
      await tx.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: p, offset: (BigInt(batch.lastOffset()) + 1n).toString() }],
          },
        ],
      });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => {}); // best effort: a fenced producer cannot abort either; the caller drops it
      throw err;
    }
  }

  return {
    async start() {
      goldSchemaId = await registerValueSchema(registry, topics.gold, 'enrichment-job-gold');
      await admin.connect();
      // The transactional id of the versions before per-task producers: its open transaction, if
      // an upgrade left one, is aborted now instead of holding readers until its timeout.
      await initialiseOnce(kafka, options.legacyTransactionalId);
      await kept.start();
    },
    async close() {
      // The consumer first: it finishes the batch in flight (its transaction commits) before leaving;
      // the task producers and the admin close even when it could not leave cleanly.
      await closeInOrder(
        [
          ['consumer', () => kept.close()],
          ['task producers', () => tasks.close()],
          ['admin', () => admin.disconnect()],
        ],
        logger,
      );
    },
  };
}
