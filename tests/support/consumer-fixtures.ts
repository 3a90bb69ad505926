import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { inject } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { registerValueSchema } from '../../common/registry.ts';
import { createTopicsReady } from '../../common/topic-admin.ts';
import { waitFor } from '../../common/wait-for.ts';
import { HEADERS } from '../../contracts/headers.ts';
import type { EnrichmentJob, EnrichmentJobGold, Workspace } from '../../schemas/generated/types.ts';
import type { SchemaName } from '../../schemas/index.ts';
import { job, workspace } from './fixtures.ts';

/** Fixtures of the bronze and gold-sink integration tests: records, topics, processes. */

export const silentLogger = createLogger('test', 'silent');

/** Short timings so that a consumer killed by a test hands its partitions over quickly. */
export const FAST_GROUP_ENV = {
  TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS: '8000',
  TRIBUTARY_CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
};

/** The test's own metrics topic, so test instances never show up in the dev dashboard's metrics. */
export const metricsTopicOf = (topic: string) => `${topic}.metrics`;

const T0 = Date.UTC(2026, 0, 1);

/** A workspace whose name exercises COPY escaping (tab, newline, backslash, quotes). */
export function workspaceRecord(over: Partial<Workspace> = {}): Workspace {
  return workspace({ name: 'Acme\tCorp\nLtd \\ "quoted"', country: 'FR', updated_at: T0 + 1000, ...over });
}

export function jobRecord(over: Partial<EnrichmentJob> = {}): EnrichmentJob {
  return job({ status: 'processing', enriched_count: 10, failed_count: 1, updated_at: T0 + 1000, ...over });
}

/** A gold record of one job at version (job_updated_at, workspace_updated_at). */
export function goldRecord(
  jobId: string,
  jobUpdatedAt: number,
  workspaceUpdatedAt: number | null,
  over: Partial<EnrichmentJobGold> = {},
): EnrichmentJobGold {
  const resolved = workspaceUpdatedAt !== null;
  return {
    job_id: jobId,
    workspace_id: '00000000-0000-4000-8000-000000000001',
    kind: 'person',
    status: 'processing',
    requested_count: 10,
    enriched_count: jobUpdatedAt % 10,
    failed_count: 0,
    error_code: null,
    created_at: T0,
    finished_at: null,
    workspace_name: resolved ? `ws@${workspaceUpdatedAt}` : null,
    workspace_plan: resolved ? 'starter' : null,
    workspace_segment: resolved ? 'smb' : null,
    workspace_country: resolved ? 'DE' : null,
    workspace_resolved: resolved,
    duration_ms: null,
    success_rate: (jobUpdatedAt % 10) / 10,
    is_terminal: false,
    job_updated_at: jobUpdatedAt,
    workspace_updated_at: workspaceUpdatedAt,
    processed_at: T0 + 5,
    ...over,
  };
}

/** Creates the topics and returns once they are usable (common/topic-admin.ts). */
export async function createTopics(admin: Admin, topics: string[], numPartitions = 3): Promise<void> {
  await createTopicsReady(
    admin,
    topics.map((topic) => ({ topic, numPartitions })),
  );
}

/** Registers the schema under `<topic>-value` and returns an encoder for it. */
export async function avroEncoder(registry: SchemaRegistry, topic: string, schema: SchemaName) {
  const id = await registerValueSchema(registry, topic, schema);
  return { id, encode: (value: unknown) => registry.encode(id, value) };
}

export function pollerHeaders(requestId: string = randomUUID()): IHeaders {
  return {
    [HEADERS.source]: 'test-api',
    [HEADERS.fetchedAt]: new Date(T0 + 2000).toISOString(),
    [HEADERS.requestId]: requestId,
  };
}

/** Reads every message of a topic from the beginning until `count` arrived. */
export async function readTopic(kafka: Kafka, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const messages: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
    await waitFor(() => messages.length >= count, {
      timeoutMs: 90_000,
      what: `${count} messages on ${topic}`,
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** True when the group has committed the end of every non-empty partition of the topic. */
export async function groupCaughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  return ends.every((e) => {
    if (e.high === e.low) return true; // nothing to consume, so nothing is ever committed
    const c = committed?.partitions.find((p) => p.partition === e.partition);
    return c !== undefined && BigInt(c.offset) >= BigInt(e.high);
  });
}

/** Sum of the group's committed offsets on the topic (its progress, for a topic starting at 0). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (committed?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export interface RoleProcess {
  child: ChildProcess;
  /** what the process wrote on stderr, for failure messages */
  output(): string;
  /** SIGKILL, and resolves when it is gone */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), and resolves with the exit code */
  stop(): Promise<number | null>;
}

/** Starts a process entry (e.g. consumers/bronze/process.ts) with the test instance's environment. */
export function spawnRoleProcess(entry: string, env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...inject('infraEnv'), TRIBUTARY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => stderr,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Sends records in one idempotent batch and returns nothing until all are acknowledged. */
export async function sendAll(
  producer: Producer,
  topic: string,
  messages: Array<{ key: string; value: Buffer | null; headers?: IHeaders }>,
): Promise<void> {
  await producer.send({ topic, acks: -1, messages });
}
