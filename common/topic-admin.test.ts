import * as kafkajs from 'kafkajs';
import {
  type Admin,
  type ITopicConfig,
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
} from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TributaryError } from './errors.ts';
import {
  createTopicsReady,
  deleteTopicsGone,
  isTransientTopicError,
  metadataProblems,
  recreateTopics,
  topicError,
} from './topic-admin.ts';

// kafkajs' own error classes, built the way it builds them from a broker's answer (its type
// declarations do not show the protocol fields, nor export KafkaJSCreateTopicError)
interface ProtocolFields {
  type: string;
  code: number;
  retriable: boolean;
  message?: string;
}
const KafkaJSProtocolError = kafkajs.KafkaJSProtocolError as unknown as new (e: ProtocolFields) => Error;
const KafkaJSCreateTopicError = (
  kafkajs as unknown as { KafkaJSCreateTopicError: new (e: ProtocolFields, topic: string) => Error }
).KafkaJSCreateTopicError;
const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code, retriable, message: `${type} happened` });
const notLeader = () => protocol('NOT_LEADER_FOR_PARTITION', 6, true);
const unknownTopic = () => protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true);
const partition = (partitionId: number, leader = 1) => ({
  partitionId,
  leader,
  partitionErrorCode: 0,
  replicas: [1],
  isr: [1],
  offlineReplicas: [],
});

/**
 * A broker that behaves like a loaded one: a created topic shows up in the metadata only after
 * `metadataLagCalls` metadata requests, without a leader for one more, and its leader answers
 * `notLeaderAnswers` ListOffsets with NOT_LEADER first. A deleted topic stays known for
 * `deleteLagCalls` metadata requests. Every call is recorded.
 */
function fakeBroker(
  lag: { metadataLagCalls?: number; notLeaderAnswers?: number; deleteLagCalls?: number } = {},
) {
  const topics = new Map<string, { partitions: number; metadataCalls: number; notLeader: number }>();
  const deleting = new Map<string, number>();
  const calls: string[] = [];
  const admin = {
    async listTopics() {
      calls.push('list');
      return [...topics.keys()];
    },
    async createTopics({ topics: wanted }: { topics: ITopicConfig[] }) {
      calls.push(`create ${wanted.map((t) => t.topic).join(',')}`);
      // like kafkajs: false when every one exists, an aggregate error when some do
      const existing = wanted.filter((t) => topics.has(t.topic));
      if (existing.length === wanted.length) return false;
      if (existing.length > 0)
        throw new KafkaJSAggregateError(
          'create failed',
          existing.map(
            (t) =>
              new KafkaJSCreateTopicError(
                { type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false, message: 'exists' },
                t.topic,
              ),
          ),
        );
      for (const t of wanted)
        topics.set(t.topic, { partitions: t.numPartitions ?? 1, metadataCalls: 0, notLeader: 0 });
      return true;
    },
    async deleteTopics({ topics: names }: { topics: string[] }) {
      calls.push(`delete ${names.join(',')}`);
      for (const n of names) {
        topics.delete(n);
        deleting.set(n, lag.deleteLagCalls ?? 0);
      }
    },
    async fetchTopicMetadata({ topics: names }: { topics: string[] }) {
      calls.push('metadata');
      const out = [];
      for (const n of names) {
        const left = deleting.get(n);
        if (left !== undefined && left > 0) {
          deleting.set(n, left - 1);
          out.push({ name: n, partitions: [partition(0)] });
          continue;
        }
        const t = topics.get(n);
        if (!t) throw unknownTopic();
        const call = t.metadataCalls++;
        const lagCalls = lag.metadataLagCalls ?? 0;
        if (call < lagCalls) throw unknownTopic();
        // then one answer without a leader (kafkajs would throw LEADER_NOT_AVAILABLE; -1 is checked too)
        const leader = lagCalls > 0 && call === lagCalls ? -1 : 1;
        out.push({
          name: n,
          partitions: Array.from({ length: t.partitions }, (_, i) => partition(i, leader)),
        });
      }
      return { topics: out };
    },
    async fetchTopicOffsets(name: string) {
      calls.push(`offsets ${name}`);
      const t = topics.get(name);
      if (!t) throw unknownTopic();
      if (t.notLeader++ < (lag.notLeaderAnswers ?? 0)) throw notLeader();
      return Array.from({ length: t.partitions }, (_, i) => ({
        partition: i,
        offset: '0',
        high: '0',
        low: '0',
      }));
    },
  };
  return { admin: admin as unknown as Admin, calls, topics };
}

/** Runs a call to its end on the fake clock (the retries' backoff and deadline included). */
async function settle<T>(call: Promise<T>): Promise<T> {
  const outcome = call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  const r = await outcome;
  if ('error' in r) throw r.error;
  return r.value;
}

describe('metadataProblems', () => {
  it('names missing topics, wrong partition counts and partitions without a leader', () => {
    expect(
      metadataProblems(
        [{ topic: 'a', numPartitions: 3 }, { topic: 'b' }, { topic: 'c', numPartitions: 2 }, { topic: 'd' }],
        [
          { name: 'a', partitions: [partition(0), partition(1)] },
          { name: 'b', partitions: [partition(1, -1), partition(0, -1), partition(2)] },
          { name: 'c', partitions: [partition(0), { ...partition(1), partitionErrorCode: 5 }] },
        ],
      ),
    ).toEqual([
      'a has 2 of 3 partitions',
      'b has no leader for partition(s) 0, 1',
      'c has no leader for partition(s) 1',
      'd is not in the metadata yet',
    ]);
    expect(
      metadataProblems([{ topic: 'a', numPartitions: -1 }], [{ name: 'a', partitions: [partition(0)] }]),
    ).toEqual([]);
  });
});

describe('isTransientTopicError', () => {
  it('retries what means "not yet", also when kafkajs wrapped it after its own retries', () => {
    expect(isTransientTopicError(notLeader())).toBe(true);
    expect(isTransientTopicError(unknownTopic())).toBe(true);
    expect(isTransientTopicError(protocol('LEADER_NOT_AVAILABLE', 5, true))).toBe(true);
    expect(isTransientTopicError(protocol('NOT_LEADER_OR_FOLLOWER', 6, true))).toBe(true);
    expect(isTransientTopicError(protocol('SOME_FUTURE_ERROR', 999, true))).toBe(true);
    expect(isTransientTopicError(new KafkaJSConnectionError('Connection error: ECONNREFUSED'))).toBe(true);
    expect(
      isTransientTopicError(
        new KafkaJSNumberOfRetriesExceeded(notLeader(), { retryCount: 8, retryTime: 5000 }),
      ),
    ).toBe(true);
    expect(
      isTransientTopicError(
        new KafkaJSAggregateError('create failed', [
          new KafkaJSCreateTopicError({ type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false }, 'a'),
          new KafkaJSCreateTopicError({ type: 'REQUEST_TIMED_OUT', code: 7, retriable: true }, 'b'),
        ]),
      ),
    ).toBe(true);
  });

  it('does not retry what a retry cannot fix', () => {
    const badFactor = new KafkaJSCreateTopicError(
      {
        type: 'INVALID_REPLICATION_FACTOR',
        code: 38,
        retriable: false,
        message: 'Replication factor: 3 larger than available brokers: 1.',
      },
      'raw.x',
    );
    expect(isTransientTopicError(badFactor)).toBe(false);
    expect(
      isTransientTopicError(new KafkaJSAggregateError('create failed', [unknownTopic(), badFactor])),
    ).toBe(false);
    expect(
      isTransientTopicError(new KafkaJSNonRetriableError(protocol('TOPIC_AUTHORIZATION_FAILED', 29, false))),
    ).toBe(false);
    expect(isTransientTopicError(new Error('boom'))).toBe(false);
    expect(isTransientTopicError(undefined)).toBe(false);
  });
});

describe('topicError', () => {
  it('names the topic the broker refused and says how to fix it', () => {
    const err = topicError(
      new KafkaJSAggregateError('create failed', [
        new KafkaJSCreateTopicError(
          {
            type: 'INVALID_REPLICATION_FACTOR',
            code: 38,
            retriable: false,
            message: 'Replication factor: 3 larger than available brokers: 1.',
          },
          'raw.x',
        ),
      ]),
      'creating topics raw.x, raw.y',
      ['raw.x', 'raw.y'],
    );
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.retriable).toBe(false);
    expect(err.message).toBe('creating topics raw.x, raw.y failed (raw.x): create failed');
    expect(err.fix).toMatch(/fewer brokers than the replication factor/);
    const other = topicError(new Error('boom'), 'deleting topics a', ['a']);
    expect(other.message).toBe('deleting topics a failed (a): boom');
    expect(other.fix).toMatch(/broker log/);
  });
});

describe('createTopicsReady', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const config = (topic: string, numPartitions = 3): ITopicConfig => ({ topic, numPartitions });

  it('returns only once the metadata has leaders and every leader answers ListOffsets', async () => {
    const { admin, calls } = fakeBroker({ metadataLagCalls: 2, notLeaderAnswers: 2 });
    expect(
      await settle(createTopicsReady(admin, [config('a'), config('b', 1)], { timeoutMs: 60_000 })),
    ).toEqual(['a', 'b']);
    expect(calls.filter((c) => c.startsWith('create'))).toEqual(['create a,b']);
    // the last answers were good ones: both topics' offsets, after at least two NOT_LEADER answers
    expect(calls.slice(-2)).toEqual(['offsets a', 'offsets b']);
    expect(calls.filter((c) => c === 'offsets a').length).toBeGreaterThanOrEqual(3);
  });

  it('leaves existing topics as they are, waits for them too, and reports only those it created', async () => {
    const { admin, calls } = fakeBroker();
    await settle(createTopicsReady(admin, [config('a')]));
    expect(await settle(createTopicsReady(admin, [config('a', 6), config('b')]))).toEqual(['b']);
    expect(calls.filter((c) => c.startsWith('create'))).toEqual(['create a', 'create b']);
  });

  it('fails at once, naming the topic, when the broker refuses it for good', async () => {
    const { admin, calls } = fakeBroker();
    admin.createTopics = async () => {
      calls.push('create');
      throw new KafkaJSAggregateError('create failed', [
        new KafkaJSCreateTopicError(
          { type: 'POLICY_VIOLATION', code: 44, retriable: false, message: 'no' },
          'b',
        ),
      ]);
    };
    const err = await settle(createTopicsReady(admin, [config('a'), config('b')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).message).toBe('creating topics a, b failed (b): create failed');
    expect(calls.filter((c) => c === 'create')).toHaveLength(1);
  });

  it('gives up at its deadline with what it was waiting for', async () => {
    const { admin } = fakeBroker({ notLeaderAnswers: Number.POSITIVE_INFINITY });
    const started = Date.now();
    const err = await settle(createTopicsReady(admin, [config('a')], { timeoutMs: 30_000 })).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect((err as Error).message).toMatch(
      /^creating topics a: gave up after 30 s \(NOT_LEADER_FOR_PARTITION happened\)/,
    );
    expect((err as TributaryError).fix).toMatch(/infra status/);
  });
});

describe('deleteTopicsGone and recreateTopics', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  it('returns once the broker no longer knows the topics, asking for each deletion once', async () => {
    const { admin, calls } = fakeBroker({ deleteLagCalls: 3 });
    await settle(createTopicsReady(admin, [{ topic: 'a', numPartitions: 1 }]));
    expect(await settle(deleteTopicsGone(admin, ['a', 'never-existed']))).toEqual(['a']);
    expect(calls.filter((c) => c.startsWith('delete'))).toEqual(['delete a']);
    // the last metadata request for it answered UNKNOWN_TOPIC_OR_PARTITION
    await expect(admin.fetchTopicMetadata({ topics: ['a'] })).rejects.toThrow(/UNKNOWN_TOPIC_OR_PARTITION/);
  });

  it('re-creates only after the old topic is gone, with the new layout', async () => {
    const { admin, calls, topics } = fakeBroker({ deleteLagCalls: 2, notLeaderAnswers: 1 });
    await settle(createTopicsReady(admin, [{ topic: 'a', numPartitions: 1 }]));
    calls.length = 0;
    await settle(recreateTopics(admin, [{ topic: 'a', numPartitions: 4 }]));
    const deleteAt = calls.indexOf('delete a');
    const createAt = calls.indexOf('create a');
    expect(deleteAt).toBeGreaterThanOrEqual(0);
    expect(createAt).toBeGreaterThan(deleteAt);
    // between them, metadata requests until the broker forgot the old topic
    expect(calls.slice(deleteAt, createAt).filter((c) => c === 'metadata').length).toBeGreaterThanOrEqual(3);
    expect(topics.get('a')?.partitions).toBe(4);
  });
});
