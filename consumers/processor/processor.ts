import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import {
  type Admin,
  type Batch,
  type Consumer,
  type IHeaders,
  type Kafka,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { describeError } from '../../common/errors.ts';
import { createTopicLimits, sendWithinLimits } from '../../common/kafka-limits.ts';
import { keepConsumerRunning } from '../../common/keep-running.ts';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { registerValueSchema } from '../../common/registry.ts';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import { jobEntry, restoreState, workspaceEntry } from './changelog.ts';
import { goldRecord } from './gold-record.ts';
import type { JoinState } from './join-state.ts';
import type { ProcessorOptions } from './options.ts';

/**
 * The stream processor: a foreign-key table–table join of the latest job with the latest state of
 * its workspace, as exactly-once consume–transform–produce. Per input batch, ONE Kafka transaction
 * holds the gold records, the dead letters, the changelog entries of the state that changed, and
 * the consumed offsets; a crash anywhere leaves either all of it or none of it.
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
  const goldTotal = metrics.counter('tributary_processor_gold_records_total', 'gold records emitted');
  const dlqTotal = metrics.counter('tributary_processor_dlq_records_total', 'records sent to the gold DLQ');
  const unresolved = metrics.gauge(
    'tributary_processor_unresolved_jobs',
    'jobs whose workspace has not arrived yet',
  );
  const restoreSeconds = metrics.gauge(
    'tributary_processor_restore_seconds',
    'duration of the last state restore',
  );

  const newProducer = (): Producer =>
    kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // kafkajs' default since 2.0, spelled out: it warns on every producer otherwise
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  let producer: Producer = newProducer();
  const admin: Admin = kafka.admin();
  const limits = createTopicLimits({ admin });
  const states = new Map<number, JoinState>();
  let assigned = new Set<number>();
  let goldSchemaId = 0;
  /** the group member this instance was last; a new one means the group may have moved on without us */
  let memberId: string | undefined;
  /** set after a failed batch or a crash: the producer may hold a broken transaction */
  let renewProducer = false;

  /**
   * The in-memory states are only right for the session that built them. After a crash, or when
   * the group took our membership away (a new member id: another instance may have processed our
   * partitions meanwhile), every state is dropped and restored from the changelog at the next batch.
   */
  function forgetStates(why: string): void {
    if (states.size > 0) logger.warn({ partitions: [...states.keys()], why }, 'processor states dropped');
    states.clear();
    assigned = new Set();
  }

  const probe = deps.liveness?.probe(`group ${options.groupId} (${topics.workspaces}, ${topics.jobs})`);
  const kept = keepConsumerRunning({
    groupId: options.groupId,
    topics: [topics.workspaces, topics.jobs],
    logger,
    probe,
    create: (): Consumer =>
      kafka.consumer({
        groupId: options.groupId,
        readUncommitted: false,
        maxBytesPerPartition: options.maxBytesPerPartition,
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      }),
    onCrash: (err) => {
      forgetStates(`consumer crashed: ${describeError(err)}`);
      memberId = undefined;
      renewProducer = true;
    },
    run: async (consumer) => {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        if (memberId !== undefined && payload.memberId !== memberId) forgetStates('rejoined as a new member');
        memberId = payload.memberId;
        // Both topics are co-partitioned: the partitions of either one name the states we need.
        const mine = new Set<number>();
        for (const t of [topics.workspaces, topics.jobs])
          for (const p of payload.memberAssignment[t] ?? []) mine.add(p);
        assigned = mine;
        for (const p of states.keys()) if (!mine.has(p)) states.delete(p);
        logger.info({ partitions: [...mine] }, 'processor assignment');
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.workspaces, topics.jobs], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.isEmpty() || !isRunning() || isStale()) return;
          if (renewProducer) await replaceProducer();
          try {
            await handleBatch(batch, heartbeat);
          } catch (err) {
            probe?.failed(err);
            renewProducer = true;
            throw err; // kafkajs retries the batch, then restarts the consumer (or we do)
          }
          probe?.progressed();
          resolveOffset(batch.lastOffset());
          await heartbeat();
        },
      });
    },
  });

  /** A new transactional producer with the same id: fences the old one and aborts its transaction. */
  async function replaceProducer(): Promise<void> {
    const old = producer;
    producer = newProducer();
    renewProducer = false;
    await old
      .disconnect()
      .catch((err) => logger.warn({ err: describeError(err) }, 'old producer did not close'));
    await producer.connect();
  }

  async function ensureState(partition: number, heartbeat: () => Promise<void>): Promise<JoinState> {
    const have = states.get(partition);
    if (have) return have;
    const missing = [...new Set([...assigned, partition])].filter((p) => !states.has(p));
    const started = Date.now();
    const restored = await restoreState({
      kafka,
      admin,
      producer,
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

  async function handleBatch(batch: Batch, heartbeat: () => Promise<void>): Promise<number> {
    const p = batch.partition;
    const state = await ensureState(p, heartbeat);
    const decoded = await Promise.allSettled(batch.messages.map((m) => registry.decode(m.value!)));
    const gold: ReturnType<typeof goldRecord>[] = [];
    const changelog: Array<Message & { partition: number }> = [];
    const dlq: Message[] = [];
    const processedAt = now();
    const isWorkspaceTopic = batch.topic === topics.workspaces;

    decoded.forEach((result, i) => {
      const m = batch.messages[i]!;
      const lineage: IHeaders = {
        ...m.headers,
        'tributary-dlq-source': `${batch.topic}/${p}/${m.offset}`,
      };
      if (result.status === 'rejected') {
        dlq.push({
          key: m.key,
          value: m.value,
          headers: { ...lineage, 'tributary-dlq-reason': `undecodable: ${String(result.reason)}` },
        });
        return;
      }
      if (isWorkspaceTopic) {
        const outcome = state.applyWorkspace(result.value as Workspace);
        if (outcome.kind !== 'accepted') return;
        changelog.push(workspaceEntry(outcome.workspace, p));
        for (const job of outcome.jobs) gold.push(goldRecord(job, outcome.workspace, processedAt));
      } else {
        const job = result.value as EnrichmentJob;
        const outcome = state.applyJob(job);
        if (outcome.kind === 'rejected') {
          dlq.push({
            key: job.id,
            value: JSON.stringify(job),
            headers: { ...lineage, 'tributary-dlq-reason': outcome.reasons.join('; ') },
          });
        } else if (outcome.kind === 'accepted') {
          changelog.push(jobEntry(outcome.job, p));
          gold.push(goldRecord(outcome.job, outcome.workspace, processedAt));
        }
      }
    });

    const goldMessages = await Promise.all(
      gold.map(async (g) => ({ key: g.job_id, value: await registry.encode(goldSchemaId, g) })),
    );
    const tx = await producer.transaction();
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
      await tx.abort().catch(() => {});
      // The in-memory state already holds this batch; forget it and restore from the changelog.
      states.delete(p);
      throw err;
    }
    goldTotal.inc(gold.length);
    dlqTotal.inc(dlq.length);
    unresolved.set([...states.values()].reduce((n, s) => n + s.unresolvedJobs(), 0));
    return gold.length;
  }

  return {
    async start() {
      goldSchemaId = await registerValueSchema(registry, topics.gold, 'enrichment-job-gold');
      await admin.connect();
      await producer.connect();
      await kept.start();
    },
    async close() {
      await kept.close();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
