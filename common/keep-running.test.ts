import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keepConsumerRunning } from './keep-running.ts';
import { createLiveness } from './liveness.ts';
import { silentLogger } from './logger.ts';
import { waitFor } from './wait-for.ts';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
} as const;

/** Just enough of a kafkajs consumer: lifecycle calls are recorded, events are emitted by the test. */
class FakeConsumer extends EventEmitter {
  events = EVENTS;
  calls: string[] = [];
  constructor(private readonly failRun = false) {
    super();
  }
  async connect() {
    this.calls.push('connect');
  }
  async subscribe() {
    this.calls.push('subscribe');
  }
  async run() {
    this.calls.push('run');
    if (this.failRun) throw new Error('ECONNREFUSED');
  }
  async disconnect() {
    this.calls.push('disconnect');
  }
  crash(restart: boolean, message = 'The request included a message larger than the max message size') {
    const error = Object.assign(new Error(message), { name: 'KafkaJSNonRetriableError' });
    this.emit(EVENTS.CRASH, { payload: { error, groupId: 'g', restart } });
  }
  join() {
    this.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: { t: [0, 1] } } });
  }
}

function setup(opts: { failFirstRestarts?: number } = {}) {
  const consumers: FakeConsumer[] = [];
  const crashes: Array<[string, boolean]> = [];
  let failures = opts.failFirstRestarts ?? 0;
  const liveness = createLiveness({ stallAfterMs: 60_000 });
  const probe = liveness.probe('group g');
  const kept = keepConsumerRunning({
    groupId: 'g',
    topics: ['t'],
    create: () => {
      const failRun = consumers.length > 0 && failures-- > 0;
      const c = new FakeConsumer(failRun);
      consumers.push(c);
      return c as unknown as Consumer;
    },
    run: async (c) => {
      await c.connect();
      await c.subscribe({ topics: ['t'] });
      await c.run({});
    },
    onCrash: (err, restarted) => crashes.push([err.message, restarted]),
    logger: silentLogger(),
    probe,
    backoff: { minDelayMs: 5, maxDelayMs: 20 },
  });
  return { consumers, crashes, kept, liveness };
}

describe('keepConsumerRunning', () => {
  it('restarts a consumer kafkajs gave up on, with a new consumer object', async () => {
    const { consumers, crashes, kept, liveness } = setup();
    await kept.start();
    consumers[0]!.join();
    expect(liveness.status().probes[0]?.inGroup).toBe(true);
    consumers[0]!.crash(false);
    expect(liveness.status().probes[0]).toMatchObject({
      inGroup: false,
      lastError: 'The request included a message larger than the max message size',
    });
    expect(kept.lastCrash()?.name).toBe('KafkaJSNonRetriableError');
    await waitFor(() => consumers.length === 2 && consumers[1]!.calls.includes('run'), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'a second consumer running',
    });
    expect(kept.current()).toBe(consumers[1]);
    expect(crashes).toEqual([['The request included a message larger than the max message size', false]]);
    consumers[1]!.join();
    expect(liveness.status().probes[0]?.inGroup).toBe(true);
    // a crash of the replaced consumer changes nothing
    consumers[0]!.crash(false);
    expect(crashes).toHaveLength(1);
    await kept.close();
    expect(consumers[1]!.calls.at(-1)).toBe('disconnect');
    expect(liveness.status().probes).toEqual([]);
  });

  it('leaves a retriable crash to kafkajs, but still tells the owner', async () => {
    const { consumers, crashes, kept } = setup();
    await kept.start();
    consumers[0]!.crash(true, 'Connection timeout');
    expect(crashes).toEqual([['Connection timeout', true]]);
    expect(consumers).toHaveLength(1);
    await kept.close();
  });

  it('keeps retrying a restart that fails, then runs', async () => {
    const { consumers, kept } = setup({ failFirstRestarts: 3 });
    await kept.start();
    consumers[0]!.crash(false);
    await waitFor(() => consumers.length === 5 && consumers[4]!.calls.includes('run'), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'a fifth consumer running after three failed restarts',
    });
    // every failed attempt disconnected its consumer
    for (const c of consumers.slice(1, 4)) expect(c.calls.at(-1)).toBe('disconnect');
    await kept.close();
  });

  it('counts the waiting messages from batch events, and progress when a batch ends', async () => {
    const { consumers, kept, liveness } = setup();
    await kept.start();
    const c = consumers[0]!;
    c.join();
    c.emit(EVENTS.START_BATCH_PROCESS, {
      payload: { topic: 't', partition: 0, batchSize: 10, offsetLag: '90' },
    });
    expect(liveness.status().probes[0]).toMatchObject({ waiting: 100, lastProgressAt: null });
    c.emit(EVENTS.END_BATCH_PROCESS, {
      payload: { topic: 't', partition: 0, batchSize: 10, offsetLag: '90' },
    });
    expect(liveness.status().probes[0]).toMatchObject({ waiting: 90 });
    expect(liveness.status().probes[0]?.lastProgressAt).not.toBeNull();
    await kept.close();
  });

  it('does not restart after close, even when the crash came first', async () => {
    const { consumers, kept } = setup();
    await kept.start();
    consumers[0]!.crash(false);
    await kept.close();
    expect(consumers.length).toBeLessThanOrEqual(2);
    expect(consumers.at(-1)!.calls.at(-1)).toBe('disconnect');
  });
});
