import type { RoleMetrics } from '../../common/metrics.ts';
import { DEAD_LETTER_STAGES } from '../../contracts/dead-letter.ts';
import { HEADERS, headerText } from '../../contracts/headers.ts';
import type { AvroDecoder } from '../shared/avro-decoder.ts';
import type { Chunk } from '../shared/batch-consumer.ts';
import { copyLine } from '../shared/copy-text.ts';
import type { DeadLetter, DeadLetterQueue } from '../shared/dead-letter.ts';
import { headerIsoTimestamp, kafkaTimestampIso } from '../shared/headers.ts';
import { storeCall } from '../shared/store-call.ts';
import type { BronzeTable } from './tables.ts';
import type { BronzeWriter } from './writer.ts';

export interface BronzeMetrics {
  rowsWritten(topic: string, n: number): void;
  deadLettered(topic: string, n: number): void;
  batch(topic: string, seconds: number): void;
}

export function createBronzeMetrics(metrics: RoleMetrics): BronzeMetrics {
  const rows = metrics.counter('tributary_bronze_rows_written_total', 'new rows written to bronze', [
    'topic',
  ]);
  const dlq = metrics.counter('tributary_bronze_dlq_records_total', 'records sent to the DLQ', ['topic']);
  const batches = metrics.counter('tributary_bronze_batches_total', 'batches committed', ['topic']);
  const last = metrics.gauge('tributary_bronze_batch_latency_seconds', 'latency of the last batch', [
    'topic',
  ]);
  // Buckets passed explicitly: common/metrics.ts hands `undefined` to prom-client, which then fails.
  const latency = metrics.histogram(
    'tributary_bronze_batch_duration_seconds',
    'batch latency (decode to commit)',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  return {
    rowsWritten: (topic, n) => rows.inc({ topic }, n),
    deadLettered: (topic, n) => dlq.inc({ topic }, n),
    batch(topic, seconds) {
      batches.inc({ topic });
      last.set({ topic }, seconds);
      latency.observe(seconds);
    },
  };
}

/**
 * Handles one chunk of a raw topic: decodes every message, writes the decodable ones to bronze in
 * one transaction and sends the others to the dead-letter topic. Both are durable when it resolves,
 * which is when the batch consumer commits the chunk's offsets.
 */
export function createBronzeIngest<T>(deps: {
  table: BronzeTable<T>;
  decoder: AvroDecoder<T>;
  writer: BronzeWriter;
  deadLetters: DeadLetterQueue;
  metrics: BronzeMetrics;
}): (chunk: Chunk) => Promise<void> {
  const { table, decoder, writer, deadLetters, metrics } = deps;
  return async ({ topic, partition, messages }) => {
    const started = performance.now();
    await decoder.prepare(messages.map((m) => m.value));
    const lines: string[] = [];
    const letters: DeadLetter[] = [];
    for (const message of messages) {
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
        const h = message.headers;
        lines.push(
          copyLine([
            ...table.values(decoded.value),
            topic,
            partition,
            message.offset,
            kafkaTimestampIso(message.timestamp),
            decoded.schemaId,
            headerText(h, HEADERS.source),
            headerText(h, HEADERS.requestId),
            headerIsoTimestamp(h, HEADERS.fetchedAt),
          ]),
        );
      } catch (err) {
        // A value Avro accepts but Postgres would reject (not a UUID, NUL in text, year 10000…).
        letters.push({
          topic,
          partition,
          message,
          reason: `cannot be stored: ${(err as Error).message}`,
          stage: DEAD_LETTER_STAGES.refused,
          errorClass: (err as Error).name,
        });
      }
    }
    const written = await storeCall('Postgres', () => writer.write(lines));
    await storeCall('Kafka (dead letters)', () => deadLetters.send(letters));
    metrics.rowsWritten(topic, written);
    metrics.deadLettered(topic, letters.length);
    metrics.batch(topic, (performance.now() - started) / 1000);
  };
}
