import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.ts';
import { waitFor } from '../../common/wait-for.ts';
import { readDeadLetter } from '../../contracts/dead-letter.ts';
import { HEADERS } from '../../contracts/headers.ts';
import { METRICS, sampleSum } from '../../contracts/metrics/index.ts';
import { API_NAMES } from '../../producers/apis.ts';
import { pollersOptions } from '../../producers/options.ts';
import { type RunningPollers, startPollers } from '../../producers/pollers.ts';
import type { SourceExchange } from '../../producers/source-client.ts';
import { testInfra } from '../support/infra.ts';
import { useKafkaClients } from '../support/kafka.ts';
import {
  type CommittedRecord,
  createPollerTopics,
  deletePollerTopics,
  dlqVersions,
  drain,
  duplicates,
  type PollerTopics,
  pollerEnv,
  rawVersions,
  readCommitted,
  startTestSource,
  type TestSource,
} from '../support/poller-harness.ts';

const infra = testInfra();
const logger = createLogger('pollers-test', 'silent');

describe('pollers under source faults', () => {
  const { kafka, admin, registry } = useKafkaClients('pollers-faults');

  /** raw topics hold every valid version exactly once; returns what the DLQ topics hold */
  async function expectExactlyOnce(topics: PollerTopics, source: TestSource) {
    const pairs = [
      ['workspaces', topics.rawWorkspaces, topics.dlqWorkspaces],
      ['enrichment-jobs', topics.rawJobs, topics.dlqJobs],
    ] as const;
    const all = await readCommitted(
      kafka,
      pairs.flatMap(([, raw, dlq]) => [raw, dlq]),
    );
    const dlq: Array<{ api: string; malformed: string[]; records: CommittedRecord[] }> = [];
    for (const [api, rawTopic, dlqTopic] of pairs) {
      const versions = await source.versions(api);
      const got = await rawVersions(
        registry,
        all.filter((r) => r.topic === rawTopic),
      );
      expect(duplicates(got)).toEqual([]);
      expect(got.sort()).toEqual([...versions.valid].sort());
      dlq.push({ api, malformed: versions.malformed, records: all.filter((r) => r.topic === dlqTopic) });
    }
    return dlq;
  }

  it('waits exactly Retry-After after each 429 of a storm, and still delivers everything', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    // a storm: every request is refused at first, then about half of them
    const source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
      TRIBUTARY_MOCK_SOURCE_FAULT_429_RATE: '1',
      TRIBUTARY_MOCK_SOURCE_FAULT_RETRY_AFTER_SECONDS: '1',
    });
    for (let i = 0; i < 6; i++) source.handle.tick();
    const exchanges: SourceExchange[] = [];
    let running: RunningPollers | undefined;
    try {
      const env = pollerEnv(topics, source.url, { TRIBUTARY_POLL_PAGE_SIZE: '10' });
      running = await startPollers({
        infra,
        options: pollersOptions(env),
        logger,
        onExchange: (e) => exchanges.push(e),
      });
      await waitFor(() => exchanges.filter((e) => e.status === 429).length >= 6, {
        timeoutMs: 60_000,
        what: 'six 429 answers',
      });
      await source.admin('PUT', '/faults', { rate429: 0.5 });
      await drain(running, source);
      await running.close();

      await expectExactlyOnce(topics, source);
      let waits = 0;
      for (const api of API_NAMES) {
        const mine = exchanges.filter((e) => e.api === api);
        mine.forEach((e, i) => {
          const next = mine[i + 1];
          if (e.status !== 429 || !next) return;
          expect(e.error?.retryAfterMs).toBe(1000);
          // the next request of this poller starts no sooner than Retry-After after the 429 arrived
          // (Date.now() and the timers' monotonic clock round differently: 1 ms of slack)
          expect(next.startedAt - e.finishedAt).toBeGreaterThanOrEqual(999);
          waits++;
        });
      }
      expect(waits).toBeGreaterThanOrEqual(6);
      const { counters } = await running.metrics.snapshot();
      const rateLimited = API_NAMES.map(
        (api) => sampleSum(counters, METRICS.pollers.rateLimited, { api }) ?? 0,
      );
      expect(rateLimited.reduce((a, b) => a + b)).toBe(exchanges.filter((e) => e.status === 429).length);
    } finally {
      await running?.close();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });

  it('sends malformed records to the DLQ with reasons, retries bad bodies, and loses nothing valid', async () => {
    const topics = await createPollerTopics(admin, infra.topicPartitions);
    const source = await startTestSource({
      TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE: '0.3',
      TRIBUTARY_MOCK_SOURCE_FAULT_TRUNCATED_RATE: '0.2',
      TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE: '0.1',
      // slow, but within the request timeout: a request the client gives up on while the mock
      // source sleeps makes the mock's close() wait ~70 s (timeouts are covered by the unit tests)
      TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_RATE: '0.1',
      TRIBUTARY_MOCK_SOURCE_FAULT_SLOW_MS: '300',
    });
    const exchanges: SourceExchange[] = [];
    let running: RunningPollers | undefined;
    try {
      const env = pollerEnv(topics, source.url);
      running = await startPollers({
        infra,
        options: pollersOptions(env),
        logger,
        onExchange: (e) => exchanges.push(e),
      });
      // Faults are random: 40 requests hold a 5xx only ~98.5% of the time (0.9^40), so wait for
      // one of each kind instead of counting on it.
      const failed = (re: RegExp) => exchanges.some((e) => e.error && re.test(e.error.message));
      await waitFor(
        () => exchanges.length >= 40 && failed(/server error 5\d\d/) && failed(/unparseable body|not a page/),
        { timeoutMs: 90_000, what: '40 source requests, among them a 5xx and a bad body' },
      );
      await source.admin('POST', '/simulator/pause');
      await drain(running, source);
      await running.close();

      const dlq = await expectExactlyOnce(topics, source);
      let malformed = 0;
      for (const { api, malformed: expected, records } of dlq) {
        const got = dlqVersions(records);
        expect(duplicates(got)).toEqual([]);
        expect(got.sort()).toEqual([...expected].sort());
        for (const r of records) {
          expect(readDeadLetter(r.headers)).toMatchObject({
            reason: expect.stringMatching(/^\w+: .+ is not (a valid|an ISO-8601)/),
            stage: 'TASK_POLL',
            from: null,
          });
          expect(r.headers[HEADERS.source]).toBe(api);
          expect(r.headers[HEADERS.requestId]).not.toBe('');
        }
        malformed += got.length;
      }
      expect(malformed).toBeGreaterThan(0);
      const failures = exchanges.filter((e) => e.error).map((e) => e.error!.message);
      expect(failures.some((m) => /unparseable body|not a page/.test(m))).toBe(true);
      expect(failures.some((m) => /server error 5\d\d/.test(m))).toBe(true);
    } finally {
      await running?.close();
      await source.close();
      await deletePollerTopics(admin, topics);
    }
  });
});
