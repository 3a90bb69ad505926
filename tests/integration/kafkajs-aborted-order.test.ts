import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/infra.ts';
import { consumeUntil, createTopics, dropTopics, useKafkaClients } from '../support/kafka.ts';

/**
 * kafkajs 2.2.4 walked the broker's list of aborted transactions in the order it came, but the
 * broker lists them in ABORT order, not in order of their first offset. When two overlapping
 * transactions on one partition are aborted in the opposite order to the one they started in, the
 * first one's records were returned to a read_committed consumer. patches/kafkajs+2.2.4.patch sorts
 * the list (as the Java client does); this test is the reproduction.
 */
describe('kafkajs read_committed with overlapping aborted transactions', () => {
  const { kafka, admin } = useKafkaClients('aborted-order');
  const topic = uniqueName('test-aborted-order');
  const producers = ['first', 'second', 'after'].map((name) =>
    kafka.producer({
      transactionalId: uniqueName(`test-aborted-${name}`),
      idempotent: true,
      maxInFlightRequests: 1,
    }),
  );
  afterAll(async () => {
    for (const p of producers) await p.disconnect();
    await dropTopics(admin, [topic]);
  });

  it('returns no record of either aborted transaction', async () => {
    await createTopics(admin, [{ topic, partitions: 1 }]);
    const [first, second, after] = producers as [
      (typeof producers)[0],
      (typeof producers)[0],
      (typeof producers)[0],
    ];
    for (const p of producers) await p.connect();

    // first starts at a lower offset than second, records interleave, second is aborted first.
    const txFirst = await first.transaction();
    const txSecond = await second.transaction();
    await txFirst.send({ topic, messages: [{ key: 'k', value: 'aborted-first-1', partition: 0 }] });
    await txSecond.send({ topic, messages: [{ key: 'k', value: 'aborted-second-1', partition: 0 }] });
    await txFirst.send({ topic, messages: [{ key: 'k', value: 'aborted-first-2', partition: 0 }] });
    await txSecond.send({ topic, messages: [{ key: 'k', value: 'aborted-second-2', partition: 0 }] });
    await txSecond.abort();
    await txFirst.abort();
    const txAfter = await after.transaction();
    await txAfter.send({ topic, messages: [{ key: 'k', value: 'committed', partition: 0 }] });
    await txAfter.commit();

    const records = await consumeUntil(kafka, [topic], (rs) =>
      rs.some((r) => r.message.value?.toString() === 'committed'),
    );
    expect(records.map((r) => r.message.value?.toString())).toEqual(['committed']);
  });
});
