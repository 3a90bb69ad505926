import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer } from 'kafkajs';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import type { RoleMetrics } from '../../common/metrics.ts';
import { DEAD_LETTER_STAGES } from '../../contracts/dead-letter.ts';
import { GOLD_SINK_METRICS } from '../../contracts/metrics/index.ts';
import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { avroType } from '../../schemas/index.ts';
import { createAvroDecoder } from '../shared/avro-decoder.ts';
import { type BatchConsumer, createBatchConsumer } from '../shared/batch-consumer.ts';
import { type DeadLetter, type DeadLetterQueue, refusedLetter } from '../shared/dead-letter.ts';
import { storeCall } from '../shared/store-call.ts';
import type { GoldSinkName } from './options.ts';
import type { GoldSink } from './postgres-sink.ts';
import { assertStorable } from './storable.ts';
import { type GoldRecord, latestPerJob } from './version.ts';

const STORE_NAMES: Record<GoldSinkName, string> = { postgres: 'Postgres', mongo: 'MongoDB' };

/**
 * One gold sink: the gold topic, one consumer group, one store. Each chunk is decoded, reduced to
 * the latest record per job, and written with the rule of version.ts; its offsets are committed
 * after the write. A gold value that cannot be decoded or stored goes to `dlq.<gold topic>` (its
 * connector-name header names the sink's group); a tombstone is skipped: the processor never deletes
 * jobs, and a tombstone carries no version to guard a delete with.
 */
export function createGoldConsumer(deps: {
  sinkName: GoldSinkName;
  /** a new consumer of the sink's group; called again after a crash kafkajs does not restart from */
  createConsumer: () => Consumer;
  groupId: string;
  registry: SchemaRegistry;
  sink: GoldSink;
  deadLetters: DeadLetterQueue;
  metrics: RoleMetrics;
  logger: Logger;
  topic: string;
  batchSize: number;
  liveness?: Liveness;
}): BatchConsumer {
  const { sinkName, sink, deadLetters } = deps;
  const decoder = createAvroDecoder<EnrichmentJobGold>({
    registry: deps.registry,
    readerType: avroType('enrichment-job-gold'),
  });
  const labels = { sink: sinkName };
  const written = deps.metrics.counter(GOLD_SINK_METRICS.rowsWritten);
  const stale = deps.metrics.counter(GOLD_SINK_METRICS.staleVersions);
  const dlq = deps.metrics.counter(GOLD_SINK_METRICS.deadLettered);
  const batches = deps.metrics.counter(GOLD_SINK_METRICS.batches);

  return createBatchConsumer({
    createConsumer: deps.createConsumer,
    groupId: deps.groupId,
    liveness: deps.liveness,
    topic: deps.topic,
    // The gold topic is compacted: reading it from the beginning rebuilds the whole current state.
    fromBeginning: true,
    batchSize: deps.batchSize,
    logger: deps.logger.child({ topic: deps.topic, sink: sinkName }),
    async handle({ topic, partition, messages }) {
      await decoder.prepare(messages.map((m) => m.value));
      const records: GoldRecord[] = [];
      const letters: DeadLetter[] = [];
      for (const message of messages) {
        if (message.value === null) continue;
        const decoded = decoder.decode(message.value);
        if (!decoded.ok) {
          letters.push({
            topic,
            partition,
            message,
            reason: decoded.reason,
            stage: DEAD_LETTER_STAGES.undecodable,
          });
          continue;
        }
        try {
          assertStorable(decoded.value);
          records.push({ value: decoded.value, partition, offset: message.offset });
        } catch (err) {
          letters.push(refusedLetter({ topic, partition, message }, err));
        }
      }
      const latest = latestPerJob(records);
      const n = await storeCall(STORE_NAMES[sinkName], () => sink.write(latest));
      await storeCall('Kafka (dead letters)', () => deadLetters.send(letters));
      written.inc(labels, n);
      stale.inc(labels, latest.length - n);
      dlq.inc(labels, letters.length);
      batches.inc(labels);
    },
  });
}
