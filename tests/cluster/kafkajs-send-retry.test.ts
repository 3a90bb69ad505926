import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * kafkajs 2.2.4's producer retry (src/producer/sendMessages.js), found by the cluster test: a
 * transaction of the pollers held the same two records twice after a broker was killed.
 *
 * A send goes to every partition leader at once, and the retry keeps the responses *per broker*.
 * 1. When one broker's request fails fast, `Promise.all` rejects while another broker's request is
 *    still in flight, and the retry sends that broker's partitions again — with the sequence numbers
 *    the first request already took, so the broker cannot tell it is a duplicate, and an
 *    idempotent (or transactional) producer writes the records twice.
 * 2. When the retry finds a partition's leader moved to a broker that has answered already, that
 *    partition is skipped: its records are never written, and the send resolves.
 * The fix (the second part of patches/kafkajs+2.2.4.patch, applied by patch-package at install): wait for every request to
 * settle before retrying, and keep responses per partition. These tests drive sendMessages with a
 * fake cluster: they fail on stock kafkajs 2.2.4 and pass with the patch. They live with the cluster
 * test (`npm run test:cluster`) because a broker failover is what makes them happen.
 */
const require = createRequire(import.meta.url);
const sendMessages = require('kafkajs/src/producer/sendMessages.js');
const createRetry = require('kafkajs/src/retry');
const { KafkaJSProtocolError } = require('kafkajs/src/errors');
const { createErrorFromCode } = require('kafkajs/src/protocol/error');

const NOT_LEADER_OR_FOLLOWER = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Produced {
  node: number;
  partition: number;
  firstSequence: number;
}

/** Two partitions of topic `t`; `leaders(attempt)` says which node leads each at each metadata read. */
function harness(opts: {
  leaders: (metadataReads: number) => Record<number, number>;
  /** how node n answers its k-th produce request (1-based): 'fail' fast, or after `delayMs` */
  answer: (node: number, call: number) => 'fail' | { delayMs: number };
}) {
  const produced: Produced[] = [];
  const calls: Record<number, number> = {};
  let metadataReads = 0;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({
      topicData,
    }: {
      topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence: number }> }>;
    }) {
      for (const t of topicData)
        for (const p of t.partitions)
          produced.push({ node: nodeId, partition: p.partition, firstSequence: p.firstSequence });
      calls[nodeId] = (calls[nodeId] ?? 0) + 1;
      const how = opts.answer(nodeId, calls[nodeId]!);
      if (how === 'fail') throw new KafkaJSProtocolError(createErrorFromCode(NOT_LEADER_OR_FOLLOWER));
      await sleep(how.delayMs);
      return {
        topics: topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
        })),
      };
    },
  });
  const brokers: Record<number, ReturnType<typeof broker>> = { 1: broker(1), 2: broker(2) };
  const cluster = {
    refreshMetadataIfNecessary: async () => {
      metadataReads += 1;
    },
    refreshMetadata: async () => {},
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: opts.leaders(metadataReads)[0] },
      { partitionId: 1, leader: opts.leaders(metadataReads)[1] },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions) {
        const leader = opts.leaders(metadataReads)[Number(p)]!;
        out[leader] ??= [];
        out[leader].push(Number(p));
      }
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers[Number(nodeId)],
  };
  // the eosManager's part that matters here: sequences per partition and one request per broker
  const sequences: Record<string, number> = {};
  const locks = new Map<unknown, Promise<void>>();
  const eosManager = {
    isTransactional: () => false,
    getSequence: (t: string, p: number) => sequences[`${t}/${p}`] ?? 0,
    updateSequence: (t: string, p: number, n: number) => {
      sequences[`${t}/${p}`] = (sequences[`${t}/${p}`] ?? 0) + n;
    },
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    getTransactionalId: () => undefined,
    async acquireBrokerLock(b: unknown) {
      while (locks.has(b)) await locks.get(b);
      let release!: () => void;
      locks.set(
        b,
        new Promise<void>((r) => {
          release = r;
        }),
      );
      (b as { release?: () => void }).release = release;
    },
    async releaseBrokerLock(b: unknown) {
      locks.delete(b);
      (b as { release?: () => void }).release?.();
    },
  };
  const logger = { debug() {}, error() {}, info() {}, warn() {} };
  const send = sendMessages({
    logger,
    cluster,
    eosManager,
    partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
    retrier: createRetry({ retries: 3, initialRetryTime: 50, maxRetryTime: 100 }),
  });
  const run = () =>
    send({
      acks: -1,
      topicMessages: [
        {
          topic: 't',
          messages: [
            { key: '0', value: 'a' },
            { key: '1', value: 'b' },
          ],
        },
      ],
    });
  return { run, produced };
}

describe('kafkajs producer retry (patched at install)', () => {
  it('does not send a partition again while its first request is still in flight', async () => {
    const h = harness({
      leaders: () => ({ 0: 1, 1: 2 }),
      // node 1 fails fast once; node 2 answers, slowly
      answer: (node, call) => (node === 1 && call === 1 ? 'fail' : { delayMs: node === 2 ? 300 : 0 }),
    });
    await h.run();
    expect(
      h.produced.filter((p) => p.partition === 1),
      'partition 1 is written once',
    ).toHaveLength(1);
  });

  it('sends a partition whose leader moved to a broker that answered for another one', async () => {
    const h = harness({
      // partition 0's leader (node 1) fails; at the retry, node 2 leads both partitions
      leaders: (reads) => (reads <= 1 ? { 0: 1, 1: 2 } : { 0: 2, 1: 2 }),
      answer: (node) => (node === 1 ? 'fail' : { delayMs: 0 }),
    });
    const responses = await h.run();
    expect(
      h.produced.filter((p) => p.node === 2 && p.partition === 0),
      'partition 0 is written by its new leader',
    ).toHaveLength(1);
    expect(responses.map((r: { partition: number }) => r.partition).sort()).toEqual([0, 1]);
  });
});
