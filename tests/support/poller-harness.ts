import { randomBytes } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { createLogger } from '../../common/logger.ts';
import { createTopicsReady } from '../../common/topic-admin.ts';
import { waitFor } from '../../common/wait-for.ts';
import { METRICS, sampleSum } from '../../contracts/metrics/index.ts';
import { TOPIC_DECLARATIONS, type TopicKey, topicConfigs } from '../../contracts/topology.ts';
import {
  createMemoryWorld,
  type MockSourceHandle,
  mockSourceOptions,
  startMockSource,
} from '../../mock-source/index.ts';
import type { ApiName } from '../../producers/apis.ts';
import type { RunningPollers } from '../../producers/pollers.ts';
import { uniqueName } from './infra.ts';
import { dropTopics } from './kafka.ts';

/**
 * Integration-test helpers of the pollers: random topics created with the configs of
 * contracts/topics.ts, the environment that points a poller at them, a real mock source, and a reader
 * that returns *everything* committed to a topic (read_committed, up to its end offsets).
 */
export interface PollerTopics {
  rawWorkspaces: string;
  rawJobs: string;
  /** the pollers' dead letters (API entries, JSON) */
  dlqWorkspaces: string;
  dlqJobs: string;
  /** bronze's dead letters of the raw topics (dlq.<raw topic>, Avro), for the tests that run bronze */
  bronzeDlqWorkspaces: string;
  bronzeDlqJobs: string;
  state: string;
  metrics: string;
  /** the walk summaries (producers/walks.ts) */
  walks: string;
  /** a random transactional id prefix, so pollers of different tests never fence each other */
  prefix: string;
}

const SPEC_OF: Record<Exclude<keyof PollerTopics, 'prefix'>, TopicKey> = {
  rawWorkspaces: 'rawWorkspaces',
  rawJobs: 'rawJobs',
  dlqWorkspaces: 'sourceDlqWorkspaces',
  dlqJobs: 'sourceDlqJobs',
  bronzeDlqWorkspaces: 'rawDlqWorkspaces',
  bronzeDlqJobs: 'rawDlqJobs',
  state: 'pollerState',
  metrics: 'metrics',
  walks: 'walks',
};

export async function createPollerTopics(admin: Admin, partitions: number): Promise<PollerTopics> {
  const id = uniqueName('t');
  const names = Object.fromEntries(
    Object.entries(SPEC_OF).map(([k, key]) => [k, `${TOPIC_DECLARATIONS[key].name}.${id}`]),
  ) as Omit<PollerTopics, 'prefix'>;
  const specs = Object.entries(SPEC_OF).map(([k, key]) => ({
    ...TOPIC_DECLARATIONS[key],
    name: names[k as keyof typeof names],
  }));
  await createTopicsReady(admin, topicConfigs(partitions, specs));
  return { ...names, prefix: `test.poller.${id}` };
}

export async function deletePollerTopics(admin: Admin, t: PollerTopics | undefined): Promise<void> {
  if (!t) return;
  const { prefix: _prefix, ...topics } = t;
  await dropTopics(admin, Object.values(topics));
}

/** The pollers' environment for these topics and this source (plus small, fast defaults). */
export function pollerEnv(t: PollerTopics, sourceUrl: string, extra: Record<string, string> = {}) {
  return {
    TRIBUTARY_SOURCE_URL: sourceUrl,
    TRIBUTARY_RAW_WORKSPACES_TOPIC: t.rawWorkspaces,
    TRIBUTARY_RAW_JOBS_TOPIC: t.rawJobs,
    TRIBUTARY_DLQ_WORKSPACES_TOPIC: t.dlqWorkspaces,
    TRIBUTARY_DLQ_JOBS_TOPIC: t.dlqJobs,
    TRIBUTARY_POLLER_STATE_TOPIC: t.state,
    TRIBUTARY_METRICS_TOPIC: t.metrics,
    TRIBUTARY_WALKS_TOPIC: t.walks,
    TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX: t.prefix,
    TRIBUTARY_POLL_INTERVAL_MS: '200',
    TRIBUTARY_POLL_PAGE_SIZE: '5',
    TRIBUTARY_POLL_RETRY_MIN_MS: '50',
    TRIBUTARY_POLL_RETRY_MAX_MS: '500',
    TRIBUTARY_POLL_RETRIES: '20',
    // A pollers process restarted after a kill -9 gets its APIs once the dead member's session in
    // the pollers' group expires: the broker's minimum, so that restarts resume quickly.
    TRIBUTARY_POLL_SESSION_TIMEOUT_MS: '6000',
    ...extra,
  };
}

export interface TestSource {
  handle: MockSourceHandle;
  url: string;
  admin<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T>;
  /** every version in the feed, as `id@epochMs`, split by malformed */
  versions(api: ApiName): Promise<{ valid: string[]; malformed: string[] }>;
  close(): Promise<void>;
}

/**
 * A small, fast mock source: a few workspaces, a generous rate limit unless asked otherwise. Its
 * world is kept in memory, or with `postgresUrl` in Postgres (in TRIBUTARY_MOCK_SOURCE_SCHEMA: give
 * each test its own), as the role does.
 */
export async function startTestSource(
  env: Record<string, string> = {},
  opts: { postgresUrl?: string } = {},
): Promise<TestSource> {
  const adminToken = randomBytes(16).toString('hex');
  const handle = await startMockSource(
    mockSourceOptions({
      TRIBUTARY_MOCK_SOURCE_PORT: '0',
      TRIBUTARY_MOCK_SOURCE_SEED: String(Math.floor(Math.random() * 1e6)),
      TRIBUTARY_MOCK_SOURCE_TICK_MS: '100',
      TRIBUTARY_MOCK_SOURCE_CHANGES_PER_TICK: '3',
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '6',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '10',
      TRIBUTARY_MOCK_SOURCE_MAX_JOBS: '25',
      TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_CAPACITY: '10000',
      TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: '10000',
      TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN: adminToken,
      ...env,
    }),
    {
      logger: createLogger('mock-source', 'warn'),
      ...(opts.postgresUrl ? { postgresUrl: opts.postgresUrl } : { world: createMemoryWorld() }),
    },
  );
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${handle.url}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    handle,
    url: handle.url,
    admin,
    async versions(api) {
      const list = await admin<Array<{ id: string; updated_at: string; malformed: boolean }>>(
        'GET',
        `/versions/${api}`,
      );
      const key = (v: { id: string; updated_at: string }) => `${v.id}@${Date.parse(v.updated_at)}`;
      return {
        valid: list.filter((v) => !v.malformed).map(key),
        malformed: list.filter((v) => v.malformed).map(key),
      };
    },
    close: () => handle.close(),
  };
}

export interface CommittedRecord {
  topic: string;
  partition: number;
  key: string | null;
  headers: Record<string, string>;
  message: KafkaMessage;
}

/**
 * Every record committed to `topics`, read with read_committed up to the end offsets taken now.
 * Call it when no producer has a transaction open on them (e.g. after the pollers closed), or it
 * waits for those transactions to end.
 */
export async function readCommitted(
  kafka: Kafka,
  topics: string[],
  timeoutMs = 60_000,
): Promise<CommittedRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const pending = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const o of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(o.high) > BigInt(o.low)) pending.set(`${topic}/${o.partition}`, BigInt(o.high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const records: CommittedRecord[] = [];
  if (pending.size === 0) return records;
  const groupId = uniqueName('test-poller-reader');
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  // Fires for batches of only transaction markers too: how a reader learns it passed the last one.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const k = `${payload.topic}/${payload.partition}`;
    const high = pending.get(k);
    if (high !== undefined && BigInt(payload.lastOffset) + 1n >= high) pending.delete(k);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        records.push({
          topic,
          partition,
          key: message.key?.toString() ?? null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          message,
        });
      },
    });
    await waitFor(() => pending.size === 0, {
      timeoutMs,
      intervalMs: 100,
      what: `the end of ${topics.join(', ')}`,
    });
    return records;
  } finally {
    await consumer.disconnect();
    const a = kafka.admin();
    await a.connect();
    // A reader's random group; one left behind (broker busy) changes no test's outcome.
    await a.deleteGroups([groupId]).catch(() => {});
    await a.disconnect();
  }
}

/** `id@updated_at` of each raw record (Avro-decoded through the registry). */
export async function rawVersions(registry: SchemaRegistry, records: CommittedRecord[]): Promise<string[]> {
  return Promise.all(
    records.map(async (r) => {
      const v = (await registry.decode(r.message.value!)) as { id: string; updated_at: number };
      return `${v.id}@${v.updated_at}`;
    }),
  );
}

/** `id@updated_at` of each DLQ record (raw JSON). */
export function dlqVersions(records: CommittedRecord[]): string[] {
  return records.map((r) => {
    const v = JSON.parse(String(r.message.value)) as { id: string; updated_at: string };
    return `${v.id}@${Date.parse(v.updated_at)}`;
  });
}

/** The entries that occur more than once. */
export function duplicates(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((x) => seen.has(x) || !seen.add(x));
}

/** records published + sent to the DLQ by one poller so far (from its metrics) */
export async function handled(running: RunningPollers, api: ApiName): Promise<number> {
  const { counters } = await running.metrics.snapshot();
  return (
    (sampleSum(counters, METRICS.pollers.published, { api }) ?? 0) +
    (sampleSum(counters, METRICS.pollers.deadLettered, { api }) ?? 0)
  );
}

async function lastSuccess(running: RunningPollers, api: ApiName): Promise<number> {
  return sampleSum((await running.metrics.snapshot()).gauges, METRICS.pollers.lastSuccess, { api }) ?? 0;
}

/**
 * Waits until each poller handled every version of the (paused) source, then for one more complete
 * walk over the overlap window, so that a duplicate, if the pollers made one, is on the topic.
 */
export async function drain(running: RunningPollers, source: TestSource, timeoutMs = 90_000): Promise<void> {
  for (const api of ['workspaces', 'enrichment-jobs'] as const) {
    const v = await source.versions(api);
    const total = v.valid.length + v.malformed.length;
    await waitFor(async () => (await handled(running, api)) >= total, {
      timeoutMs,
      what: `${api}: ${total} versions handled`,
    });
    const after = Date.now() / 1000;
    await waitFor(async () => (await lastSuccess(running, api)) > after, {
      timeoutMs,
      what: `${api}: one more complete walk`,
    });
  }
}
