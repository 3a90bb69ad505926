/**
 * Reading the gold topic from your own service: a complete consumer that depends only on kafkajs and
 * @kafkajs/confluent-schema-registry (no Tributary code), to copy and adapt. See docs/consuming-gold.md.
 *
 *   node --import tsx examples/gold-consumer.ts --from beginning --max 10
 *
 * Flags (or environment variables):
 *   --brokers   GOLD_BROKERS        comma-separated host:port       (default 127.0.0.1:19092)
 *   --registry  GOLD_REGISTRY_URL   Confluent-compatible registry    (default http://127.0.0.1:18081/apis/ccompat/v7)
 *   --topic     GOLD_TOPIC          the gold topic                   (default gold.enrichment-jobs)
 *   --group     GOLD_GROUP          your consumer group id           (default gold-consumer-example)
 *   --from      GOLD_FROM           where to start: `committed` (the group's committed offsets; a new group
 *                                   starts at the beginning), `beginning` or `now` (both reset the group first)
 *   --max       GOLD_MAX            exit after this many records (default: run until Ctrl-C)
 * Each record is printed as one JSON line on stdout.
 */
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

const { values: flags } = parseArgs({
  options: {
    brokers: { type: 'string' },
    registry: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    from: { type: 'string' },
    max: { type: 'string' },
  },
});
const env = process.env;
const config = {
  brokers: (flags.brokers ?? env.GOLD_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()),
  registry: flags.registry ?? env.GOLD_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7',
  topic: flags.topic ?? env.GOLD_TOPIC ?? 'gold.enrichment-jobs',
  group: flags.group ?? env.GOLD_GROUP ?? 'gold-consumer-example',
  from: flags.from ?? env.GOLD_FROM ?? 'committed',
  max: Number(flags.max ?? env.GOLD_MAX ?? Number.POSITIVE_INFINITY),
};
if (!['committed', 'beginning', 'now'].includes(config.from) || !(config.max > 0)) {
  console.error(
    'usage: gold-consumer [--from committed|beginning|now] [--max N] [--brokers …] [--registry …]',
  );
  process.exit(2);
}

/** The shape of a gold value (schema dev.tributary.gold.EnrichmentJobGold); timestamps are epoch ms. */
interface EnrichmentJobGold {
  job_id: string;
  workspace_id: string;
  status: 'queued' | 'processing' | 'completed' | 'failed' | 'canceled';
  job_updated_at: number;
  workspace_updated_at: number | null;
  [field: string]: unknown;
}

const kafka = new Kafka({
  clientId: 'gold-consumer-example',
  brokers: config.brokers,
  logLevel: logLevel.WARN,
});
const registry = new SchemaRegistry({ host: config.registry });

// `beginning`/`now` commit the group's offsets to the first/next offset of every partition before
// it joins (the group must be idle). Explicit offsets, not admin.resetOffsets: that one commits -1
// for "latest", which a consumer subscribed with fromBeginning reads as "from the beginning".
if (config.from !== 'committed') {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(config.topic);
    await admin.setOffsets({
      groupId: config.group,
      topic: config.topic,
      partitions: ends.map((p) => ({
        partition: p.partition,
        offset: config.from === 'now' ? p.high : p.low,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

// readUncommitted: false (the default) = read_committed: records of aborted transactions never show.
const consumer = kafka.consumer({ groupId: config.group, readUncommitted: false });
await consumer.connect();
// fromBeginning only applies to a group without committed offsets.
await consumer.subscribe({ topic: config.topic, fromBeginning: true });

let seen = 0;
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= consumer.disconnect();
  return stopping;
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

await consumer.run({
  // Offsets are committed after eachMessage returns: a crash re-delivers, never skips. Make your
  // handling idempotent, e.g. keep a job only if its (partition, offset) is greater than the one you hold.
  eachMessage: async ({ partition, message }) => {
    // A null value would be a tombstone (a deleted key); the pipeline does not produce them today.
    const value =
      message.value === null ? null : ((await registry.decode(message.value)) as EnrichmentJobGold);
    seen += 1;
    console.log(
      JSON.stringify({ key: message.key?.toString(), partition, offset: message.offset, value }, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v,
      ),
    );
    // Stopping marks the consumer as not running at once: no later message is handed over (and
    // so none is committed without having been printed).
    if (seen >= config.max) void stop();
  },
});
