import type { Admin, ITopicConfig, ITopicMetadata } from 'kafkajs';
import { TributaryError } from './errors.ts';
import { type RetryEvent, withRetry } from './retry.ts';

/**
 * The one way Tributary creates and deletes topics (infra up, reset --topics, rebuild-gold's shadow
 * topics, the tests). Kafka acknowledges a CreateTopics before the topic is usable: the broker's
 * metadata can still lack it (UNKNOWN_TOPIC_OR_PARTITION), report no leader yet, or report a leader
 * whose replica manager has not taken the partition over (a ListOffsets or Produce then answers
 * NOT_LEADER_OR_FOLLOWER). A DeleteTopics is acknowledged before every broker forgets the topic. So
 * these functions return only when the topics are really usable (or really gone):
 *
 * - usable: a fresh Metadata request reports every partition with a leader and no error, and a
 *   ListOffsets on every partition is answered by that leader;
 * - gone: not listed, and a Metadata request for it answers UNKNOWN_TOPIC_OR_PARTITION.
 *
 * Transient Kafka errors are retried with common/retry.ts until a deadline; anything else fails at
 * once with an error naming the topics.
 */
export interface TopicLifecycleOptions {
  /** give up when the whole operation has taken this long (default 120 s) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** called before each retry, for logs (`event.error.message` says what is not ready yet) */
  onRetry?: (event: RetryEvent) => void;
}

/** A topic whose readiness is awaited; `numPartitions` is checked when given. */
export interface ExpectedTopic {
  topic: string;
  numPartitions?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** the broker-side timeout of one CreateTopics/DeleteTopics request (kafkajs' default is 5 s) */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Creates the topics that do not exist yet (existing ones are left as they are) and waits until all
 * of them are usable. Returns the names it created, in the given order.
 */
export async function createTopicsReady(
  admin: Admin,
  topics: readonly ITopicConfig[],
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  if (topics.length === 0) return [];
  const created = new Set<string>();
  const names = topics.map((t) => t.topic);
  await untilDone(`creating topics ${names.join(', ')}`, names, opts, async () => {
    // Listed again on every attempt: a topic listed a moment ago may have been a deleted one that
    // the broker had not forgotten yet, and must then be created after all.
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      // Counted as created before the request: if its answer is lost, the next attempt finds them.
      for (const t of missing) created.add(t.topic);
      // kafkajs answers false, not an error, when every one of them exists already (a race)
      await admin.createTopics({ topics: [...missing], waitForLeaders: false, timeout: REQUEST_TIMEOUT_MS });
    }
    const expected = topics.map((t) => ({
      topic: t.topic,
      numPartitions: created.has(t.topic) ? t.numPartitions : undefined,
    }));
    await assertUsable(admin, expected);
  });
  return names.filter((n) => created.has(n));
}

/** Waits until topics that should exist are usable (see the module comment). */
export async function waitForTopicsReady(
  admin: Admin,
  topics: readonly ExpectedTopic[],
  opts: TopicLifecycleOptions = {},
): Promise<void> {
  if (topics.length === 0) return;
  const names = topics.map((t) => t.topic);
  await untilDone(`waiting for topics ${names.join(', ')}`, names, opts, () => assertUsable(admin, topics));
}

/**
 * Raises the partition count of existing topics to `count` where it is lower (never lowers it) and
 * waits until the new partitions are usable. Returns the names it grew. Records already written
 * stay where they are: only keys written from now on hash over the new count.
 */
export async function addPartitionsReady(
  admin: Admin,
  topics: ReadonlyArray<{ topic: string; count: number }>,
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  if (topics.length === 0) return [];
  const grown = new Set<string>();
  const names = topics.map((t) => t.topic);
  await untilDone(`adding partitions to ${names.join(', ')}`, names, opts, async () => {
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
    const short = topics.filter(
      (t) => (metadata.find((m) => m.name === t.topic)?.partitions.length ?? 0) < t.count,
    );
    if (short.length > 0) {
      for (const t of short) grown.add(t.topic);
      await admin
        .createPartitions({ topicPartitions: short.map((t) => ({ topic: t.topic, count: t.count })) })
        .catch((err: unknown) => {
          // another process grew it meanwhile: the count is checked just below
          if (!kafkaErrorTypes(err).includes('INVALID_PARTITIONS')) throw err;
        });
    }
    await assertUsable(
      admin,
      topics.map((t) => ({ topic: t.topic, numPartitions: t.count })),
    );
  });
  return names.filter((n) => grown.has(n));
}

/**
 * Deletes those of the topics that exist and waits until every one of them is gone, so that a topic
 * of the same name can be created right after. Returns the names it deleted.
 */
export async function deleteTopicsGone(
  admin: Admin,
  names: readonly string[],
  opts: TopicLifecycleOptions = {},
): Promise<string[]> {
  if (names.length === 0) return [];
  const requested = new Set<string>();
  await untilDone(`deleting topics ${names.join(', ')}`, [...names], opts, async () => {
    const listed = new Set(await admin.listTopics());
    // Asked once each: deleting a topic whose deletion is under way answers UNKNOWN_TOPIC_OR_PARTITION,
    // which kafkajs retries for seconds before giving up.
    const toDelete = names.filter((n) => listed.has(n) && !requested.has(n));
    if (toDelete.length > 0) {
      await admin.deleteTopics({ topics: toDelete, timeout: REQUEST_TIMEOUT_MS });
      for (const n of toDelete) requested.add(n);
    }
    const remaining: string[] = [];
    for (const n of names) if (listed.has(n) || (await stillKnown(admin, n))) remaining.push(n);
    if (remaining.length > 0)
      throw new TributaryError(`still known to the broker: ${remaining.join(', ')}`, { retriable: true });
  });
  return names.filter((n) => requested.has(n));
}

/** Deletes the topics (those that exist), waits until they are gone, creates them and waits until usable. */
export async function recreateTopics(
  admin: Admin,
  topics: readonly ITopicConfig[],
  opts: TopicLifecycleOptions = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const left = () => Math.max(0, deadline - Date.now());
  await deleteTopicsGone(
    admin,
    topics.map((t) => t.topic),
    { ...opts, timeoutMs: left() },
  );
  await createTopicsReady(admin, topics, { ...opts, timeoutMs: left() });
}

/** Throws a retriable TributaryError saying what is not ready yet, or a Kafka error from the probe. */
async function assertUsable(admin: Admin, topics: readonly ExpectedTopic[]): Promise<void> {
  // One request for all: kafkajs throws on the first topic or partition with an error code.
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
  const problems = metadataProblems(topics, metadata);
  if (problems.length > 0) throw new TributaryError(`not ready: ${problems.join('; ')}`, { retriable: true });
  // The leader's answer, not only the metadata's word: this is the request that failed with
  // NOT_LEADER_OR_FOLLOWER right after a creation, before this check existed.
  for (const t of topics) {
    const partitions = metadata.find((m) => m.name === t.topic)!.partitions.length;
    const offsets = await admin.fetchTopicOffsets(t.topic);
    if (offsets.length !== partitions)
      throw new TributaryError(
        `not ready: ${t.topic} answered offsets for ${offsets.length} of ${partitions} partitions`,
        { retriable: true },
      );
  }
}

/** What keeps these topics from being usable according to a Metadata response (pure). */
export function metadataProblems(
  expected: readonly ExpectedTopic[],
  metadata: ReadonlyArray<Pick<ITopicMetadata, 'name' | 'partitions'>>,
): string[] {
  const problems: string[] = [];
  for (const e of expected) {
    const m = metadata.find((t) => t.name === e.topic);
    if (!m || m.partitions.length === 0) {
      problems.push(`${e.topic} is not in the metadata yet`);
      continue;
    }
    if (e.numPartitions !== undefined && e.numPartitions > 0 && m.partitions.length !== e.numPartitions)
      problems.push(`${e.topic} has ${m.partitions.length} of ${e.numPartitions} partitions`);
    const leaderless = m.partitions
      .filter((p) => p.leader < 0 || (p.partitionErrorCode ?? 0) !== 0)
      .map((p) => p.partitionId)
      .sort((a, b) => a - b);
    if (leaderless.length > 0)
      problems.push(`${e.topic} has no leader for partition(s) ${leaderless.join(', ')}`);
  }
  return problems;
}

async function stillKnown(admin: Admin, topic: string): Promise<boolean> {
  try {
    await admin.fetchTopicMetadata({ topics: [topic] });
    return true;
  } catch (err) {
    if (kafkaErrorTypes(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) return false;
    throw err;
  }
}

/** Kafka error types that mean "not yet" right after a topic was created, deleted or moved. */
const TRANSIENT_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION', // kafkajs' name for NOT_LEADER_OR_FOLLOWER
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
]);

interface KafkaLikeError {
  name?: string;
  type?: string;
  retriable?: boolean;
  topic?: string;
  cause?: unknown;
  errors?: unknown[];
}

/** Every error in the chain: the error, its causes, and the members of an aggregate. */
function chain(err: unknown, seen = new Set<unknown>()): KafkaLikeError[] {
  if (typeof err !== 'object' || err === null || seen.has(err)) return [];
  seen.add(err);
  const e = err as KafkaLikeError;
  return [
    e,
    ...chain(e.cause, seen),
    ...(Array.isArray(e.errors) ? e.errors.flatMap((x) => chain(x, seen)) : []),
  ];
}

function kafkaErrorTypes(err: unknown): string[] {
  return chain(err).flatMap((e) => (typeof e.type === 'string' ? [e.type] : []));
}

/**
 * True when the error says "try again": a transient Kafka error type, a kafkajs error marked
 * retriable (connection lost, request timed out, broker not in the metadata yet), also when wrapped
 * by kafkajs' "number of retries exceeded". An aggregate (CreateTopics per topic) is transient only
 * when every member is (TOPIC_ALREADY_EXISTS counts as done).
 */
export function isTransientTopicError(err: unknown): boolean {
  const e = err as KafkaLikeError | null;
  if (typeof e !== 'object' || e === null) return false;
  if (Array.isArray(e.errors) && e.errors.length > 0)
    return e.errors.every(
      (x) => (x as KafkaLikeError)?.type === 'TOPIC_ALREADY_EXISTS' || isTransientTopicError(x),
    );
  if (err instanceof TributaryError) return err.retriable;
  if (typeof e.type === 'string' && TRANSIENT_TYPES.has(e.type)) return true;
  if (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.retriable === true) return true;
  return e.cause !== undefined && isTransientTopicError(e.cause);
}

const FIXES: Record<string, string> = {
  INVALID_REPLICATION_FACTOR: 'the cluster has fewer brokers than the replication factor asks for',
  INVALID_PARTITIONS: 'the partition count must be at least 1 (TRIBUTARY_TOPIC_PARTITIONS)',
  INVALID_TOPIC_EXCEPTION: 'topic names use letters, digits, ".", "_" and "-" only, up to 249 characters',
  INVALID_CONFIG: 'the broker refused a topic setting; see the broker log (tributary infra logs kafka)',
  POLICY_VIOLATION: "the broker's create-topic policy refused the topic; ask its operator",
  TOPIC_AUTHORIZATION_FAILED: "grant the client's principal CREATE, DELETE and DESCRIBE on these topics",
  CLUSTER_AUTHORIZATION_FAILED: "grant the client's principal CREATE on the cluster",
  TOPIC_DELETION_DISABLED: 'set delete.topic.enable=true on the brokers',
};

/** The error to throw for a failed attempt: retriable when transient, else one naming the topics. */
export function topicError(err: unknown, what: string, topics: readonly string[]): TributaryError {
  if (err instanceof TributaryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isTransientTopicError(err)) return new TributaryError(message, { retriable: true, cause: err });
  const named = chain(err).flatMap((e) => (typeof e.topic === 'string' ? [e.topic] : []));
  const types = kafkaErrorTypes(err);
  const fix = types.map((t) => FIXES[t]).find((f) => f !== undefined);
  return new TributaryError(
    `${what} failed (${[...new Set(named.length > 0 ? named : topics)].join(', ')}): ${message}`,
    { retriable: false, cause: err, fix: fix ?? 'see the broker log (tributary infra logs kafka)' },
  );
}

/**
 * Runs `attempt` until it succeeds, retrying transient Kafka errors (and retriable TributaryErrors)
 * with common/retry.ts until the deadline; other errors are thrown at once as one naming `topics`.
 */
export async function untilDone(
  what: string,
  topics: readonly string[],
  opts: TopicLifecycleOptions,
  attempt: () => Promise<void>,
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    await withRetry(
      async () => {
        try {
          await attempt();
        } catch (err) {
          throw topicError(err, what, topics);
        }
      },
      { retries: Number.POSITIVE_INFINITY, minDelayMs: 100, maxDelayMs: 2000, maxElapsedMs: timeoutMs },
      { signal: opts.signal, onRetry: opts.onRetry },
    );
  } catch (err) {
    if (err instanceof TributaryError && err.retriable)
      throw new TributaryError(`${what}: gave up after ${Math.round(timeoutMs / 1000)} s (${err.message})`, {
        retriable: true,
        cause: err,
        fix: 'check that Kafka is up and healthy (tributary infra status, tributary infra logs kafka)',
      });
    throw err;
  }
}
