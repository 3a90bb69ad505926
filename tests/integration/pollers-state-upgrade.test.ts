import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { waitFor } from '../../common/wait-for.ts';
import { METRICS, sampleSum } from '../../contracts/metrics/index.ts';
import { TOPIC_DECLARATIONS } from '../../contracts/topology.ts';
import { ensureTopics } from '../../infra/topics.ts';
import { pollersOptions } from '../../producers/options.ts';
import { type RunningPollers, startPollers } from '../../producers/pollers.ts';
import { serializeState } from '../../producers/state.ts';
import { testInfra, uniqueName } from '../support/infra.ts';
import { createTopics, dropTopics, useKafkaClients } from '../support/kafka.ts';
import {
  createPollerTopics,
  deletePollerTopics,
  pollerEnv,
  readCommitted,
  startTestSource,
} from '../support/poller-harness.ts';

const infra = testInfra();
const logger = createLogger('pollers-test', 'warn');

/**
 * A poller-state topic from before the pollers scaled out has one partition, holding both APIs'
 * states. The pollers refuse it with the fix; `infra up` (ensureTopics) adds the partition; then
 * each poller resumes from the state it committed before, although the enrichment-jobs state is
 * not in that API's own partition.
 */
describe('pollers: upgrading a one-partition state topic', () => {
  const { kafka, admin } = useKafkaClients('pollers-state-upgrade');

  it('is refused with the fix, grown by infra up, and the old states are resumed', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const legacy = uniqueName('legacy-poller-state');
    await createTopics(admin, [{ topic: legacy, partitions: 1, compact: true }]);
    const source = await startTestSource();
    let running: RunningPollers | undefined;
    try {
      // The committed states of both pollers, far in the future: a poller that resumes from them
      // publishes nothing; one that started over would publish every version of the source.
      const future = Date.now() + 365 * 24 * 3600 * 1000;
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: legacy,
        messages: (['workspaces', 'enrichment-jobs'] as const).map((api) => ({
          key: api,
          partition: 0,
          value: serializeState({
            v: 2,
            hwm: { updatedAt: future, id: 'z' },
            window: [],
            committedAt: Date.now(),
          }),
        })),
      });
      await producer.disconnect();
      const options = pollersOptions(pollerEnv(topics, source.url, { TRIBUTARY_POLLER_STATE_TOPIC: legacy }));

      const refused = await startPollers({ infra, options, logger }).then(
        (r) => {
          running = r;
          return undefined;
        },
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(TributaryError);
      expect((refused as TributaryError).message).toMatch(
        `${legacy} has 1 partition(s); the pollers need one per API`,
      );
      expect((refused as TributaryError).fix).toMatch(/tributary infra up/);

      const spec = TOPIC_DECLARATIONS.pollerState;
      await ensureTopics(admin, infra.topicPartitions, [{ ...spec, name: legacy }]);
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [legacy] });
      expect(meta[0]?.partitions).toHaveLength(2);

      const startedAt = Date.now() / 1000;
      running = await startPollers({ infra, options, logger });
      const r = running;
      const lastSuccess = async (api: string) =>
        sampleSum((await r.metrics.snapshot()).gauges, METRICS.pollers.lastSuccess, { api }) ?? 0;
      await waitFor(
        async () =>
          (await lastSuccess('workspaces')) > startedAt && (await lastSuccess('enrichment-jobs')) > startedAt,
        {
          timeoutMs: 90_000,
          what: 'a complete walk of each feed',
        },
      );
      await running.close();
      const published = await readCommitted(kafka, [
        topics.rawWorkspaces,
        topics.rawJobs,
        topics.dlqWorkspaces,
        topics.dlqJobs,
      ]);
      expect(published).toEqual([]);
    } finally {
      await running?.close();
      await source.close();
      await dropTopics(admin, [legacy]);
      await deletePollerTopics(admin, topics);
    }
  });
});
