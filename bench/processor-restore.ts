/**
 * How long the stream processor takes to restore its join state after a restart, at 1 million jobs
 * (the figure docs/architecture.md quotes), against a bare consume loop over the same changelog in
 * the same run as the baseline.
 *
 *   node --import tsx bench/processor-restore.ts [--jobs 1000000] [--workspaces 100000]
 *
 * Runs against the servers your environment points at (default: the `npm start` instance).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKafka } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createTopicsReady, deleteTopicsGone } from '../common/topic-admin.ts';
import { jobEntry, restoreState, workspaceEntry } from '../consumers/processor/changelog.ts';
import { infraOptions } from '../runtime/endpoints.ts';
import { job, workspace } from '../tests/support/fixtures.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    workspaces: { type: 'string', default: '100000' },
  },
});
const nJobs = Number(values.jobs);
const nWorkspaces = Number(values.workspaces);
const PARTITIONS = 3;

const infra = infraOptions(process.env);
const kafka = createKafka(infra.kafka, 'bench-processor-restore', createLogger('bench', 'warn'));
const topic = `bench.processor-state.${randomUUID().slice(0, 8)}`;
const admin = kafka.admin();
await admin.connect();
await createTopicsReady(admin, [
  { topic, numPartitions: PARTITIONS, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
]);

try {
  console.log(`filling ${topic} with ${nWorkspaces} workspaces and ${nJobs} jobs…`);
  const producer = kafka.producer();
  await producer.connect();
  const wsIds = Array.from({ length: nWorkspaces }, () => randomUUID());
  const CHUNK = 5000;
  for (let i = 0; i < nWorkspaces; i += CHUNK) {
    const messages = wsIds
      .slice(i, i + CHUNK)
      .map((id, k) => workspaceEntry(workspace({ id }), (i + k) % PARTITIONS));
    await producer.send({ topic, messages });
  }
  for (let i = 0; i < nJobs; i += CHUNK) {
    const messages = Array.from({ length: Math.min(CHUNK, nJobs - i) }, (_, k) => {
      const n = i + k;
      return jobEntry(job({ workspace_id: wsIds[n % nWorkspaces]! }), (n % nWorkspaces) % PARTITIONS);
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  const total = nJobs + nWorkspaces;

  // Baseline: a bare consume loop over the same topic, no parsing.
  let seen = 0;
  const t0 = performance.now();
  const consumer = kafka.consumer({
    groupId: `bench-bare-${randomUUID()}`,
    maxBytesPerPartition: 4 * 1_048_576,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  const bareSeconds = (performance.now() - t0) / 1000;
  await consumer.disconnect();

  // The processor's restore: barrier + read + JSON.parse + index build.
  const txProducer = kafka.producer({
    transactionalId: `bench-restore-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await txProducer.connect();
  const rssBefore = process.memoryUsage().rss;
  const t1 = performance.now();
  const states = await restoreState({
    kafka,
    admin,
    producerFor: () => txProducer,
    topic,
    partitions: [0, 1, 2],
    groupPrefix: 'bench',
    heartbeat: async () => {},
  });
  const restoreSeconds = (performance.now() - t1) / 1000;
  const rssAfter = process.memoryUsage().rss;
  await txProducer.disconnect();
  const jobs = [...states.values()].reduce((n, s) => n + s.jobCount, 0);

  console.log(`records in changelog:   ${total}`);
  console.log(
    `bare consume loop:      ${bareSeconds.toFixed(1)} s (${Math.round(total / bareSeconds)} msg/s)`,
  );
  console.log(
    `processor restore:      ${restoreSeconds.toFixed(1)} s (${Math.round(total / restoreSeconds)} msg/s), ${jobs} jobs restored`,
  );
  console.log(`restore / bare:         ${(restoreSeconds / bareSeconds).toFixed(2)}x`);
  console.log(`state memory (RSS Δ):   ${Math.round((rssAfter - rssBefore) / 1_048_576)} MiB`);
} finally {
  await deleteTopicsGone(admin, [topic]).catch((err) =>
    console.error(`could not delete ${topic}: ${err.message}`),
  );
  await admin.disconnect();
}
