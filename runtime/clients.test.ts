import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { createRoleMetrics } from '../common/metrics.ts';
import { type ClientFactory, createClientFactory } from './clients.ts';

/** A factory whose endpoints are never reached: the fakes below stand for the servers. */
function factory(over: { publishMetrics?: boolean } = {}) {
  const errors: Array<{ msg: string; err: unknown }> = [];
  const logger = silentLogger();
  logger.error = ((obj: { err: unknown }, msg: string) => errors.push({ msg, err: obj.err })) as never;
  const clients = createClientFactory({
    endpoints: { postgres: { url: 'postgres://nowhere.invalid/x' } } as never,
    logger,
    instance: 'test',
    name: 'unit',
    ...over,
  });
  return { clients, errors };
}

/** A kafkajs client whose producers and admins record what is done to them. */
function fakeKafka(log: string[], opts: { failConnect?: boolean } = {}) {
  let n = 0;
  const client = (kind: string) => {
    const id = `${kind} ${++n}`;
    return {
      async connect() {
        log.push(`connect ${id}`);
        if (opts.failConnect) throw new Error(`${id} refused`);
      },
      async disconnect() {
        log.push(`disconnect ${id}`);
      },
      async send(req: { topic: string }) {
        log.push(`send ${req.topic} on ${id}`);
      },
    };
  };
  return { producer: () => client('producer'), admin: () => client('admin') } as unknown as Kafka;
}

/** A kafkajs client whose consumers emit DISCONNECT when disconnected, as kafkajs' do. */
function fakeKafkaConsumers(log: string[]) {
  return {
    consumer: ({ groupId }: { groupId: string }) => {
      const listeners: Array<() => void> = [];
      return {
        events: { DISCONNECT: 'consumer.disconnect' },
        on: (_event: string, listener: () => void) => listeners.push(listener),
        async disconnect() {
          log.push(`disconnect ${groupId}`);
          for (const l of listeners) l();
        },
      };
    },
  } as unknown as Kafka;
}

const tracked = (clients: ClientFactory, log: string[], what: string, fail?: string) =>
  clients.track(what, {}, async () => {
    log.push(`close ${what}`);
    if (fail) throw new Error(fail);
  });

describe('client factory', () => {
  it('closes what it opened once, last opened first', async () => {
    const { clients } = factory();
    const log: string[] = [];
    tracked(clients, log, 'first');
    tracked(clients, log, 'second');
    tracked(clients, log, 'third');
    await Promise.all([clients.closeAll(), clients.closeAll()]);
    await clients.closeAll();
    expect(log).toEqual(['close third', 'close second', 'close first']);
  });

  it('logs a close that fails and still closes the others', async () => {
    const { clients, errors } = factory();
    const log: string[] = [];
    tracked(clients, log, 'pool');
    tracked(clients, log, 'producer', 'broker went away');
    tracked(clients, log, 'admin');
    await expect(clients.closeAll()).resolves.toBeUndefined();
    expect(log).toEqual(['close admin', 'close producer', 'close pool']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('closing producer failed');
    expect(String(errors[0]!.err)).toMatch(/broker went away/);
  });

  it('connects producers and admins, shares the default producer, and disconnects each once', async () => {
    const { clients } = factory();
    const log: string[] = [];
    const kafka = fakeKafka(log);
    const admin = await clients.admin(kafka);
    const shared = await clients.producer(undefined, kafka);
    expect(await clients.producer(undefined, kafka)).toBe(shared);
    await clients.producer({ transactionalId: 'x' }, kafka);
    expect(admin).toBeDefined();
    await clients.closeAll();
    expect(log).toEqual([
      'connect admin 1',
      'connect producer 2',
      'connect producer 3',
      'disconnect producer 3',
      'disconnect producer 2',
      'disconnect admin 1',
    ]);
  });

  it('closes a client whose connect failed at once, and not again', async () => {
    const { clients } = factory();
    const log: string[] = [];
    await expect(clients.admin(fakeKafka(log, { failConnect: true }))).rejects.toThrow('admin 1 refused');
    expect(log).toEqual(['connect admin 1', 'disconnect admin 1']);
    await clients.closeAll();
    expect(log).toHaveLength(2);
  });

  it('disconnects a consumer its owner left connected, and forgets one its owner disconnected', async () => {
    const { clients } = factory();
    const log: string[] = [];
    const kafka = fakeKafkaConsumers(log);
    const left = clients.consumer({ groupId: 'left' }, kafka);
    const replaced = clients.consumer({ groupId: 'replaced' }, kafka);
    await replaced.disconnect(); // as common/keep-running.ts does before it makes a new one
    await clients.closeAll();
    expect(left).toBeDefined();
    expect(log).toEqual(['disconnect replaced', 'disconnect left']);
  });

  it('refuses to open anything once closed', async () => {
    const { clients } = factory();
    await clients.closeAll();
    expect(() => clients.postgres()).toThrow(/cannot open postgres: the unit clients are closed/);
  });

  it('ends the Postgres pools it made', async () => {
    const { clients } = factory();
    const pool = clients.postgres({ max: 1 });
    await clients.closeAll();
    expect(pool.ended).toBe(true);
  });

  it('sends a last metrics snapshot before its producer disconnects', async () => {
    const { clients } = factory();
    const log: string[] = [];
    const kafka = fakeKafka(log);
    await clients.producer(undefined, kafka); // the shared producer, as the consumer roles open it
    await clients.publishMetrics({ topic: 'metrics', metrics: [createRoleMetrics('unit')] });
    await clients.closeAll();
    expect(log).toEqual(['connect producer 1', 'send metrics on producer 1', 'disconnect producer 1']);
  });

  it('publishes nothing when asked to keep the metrics in the process', async () => {
    const { clients } = factory({ publishMetrics: false });
    const log: string[] = [];
    await clients.publishMetrics({ topic: 'metrics', metrics: [createRoleMetrics('unit')] });
    await clients.closeAll();
    expect(log).toEqual([]);
  });
});
