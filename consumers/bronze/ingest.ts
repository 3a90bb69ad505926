import type { RoleMetrics } from '../../common/metrics.ts';
import { DEAD_LETTER_STAGES } from '../../contracts/dead-letter.ts';
import { HEADERS, headerText } from '../../contracts/headers.ts';
import { BRONZE_METRICS } from '../../contracts/metrics/index.ts';
import type { AvroDecoder } from '../shared/avro-decoder.ts';
import type { Chunk } from '../shared/batch-consumer.ts';
import { copyLine } from '../shared/copy-text.ts';
import { type DeadLetter, type DeadLetterQueue, refusedLetter } from '../shared/dead-letter.ts';
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
  const rows = metrics.counter(BRONZE_METRICS.rowsWritten);
  const dlq = metrics.counter(BRONZE_METRICS.deadLettered);
  const batches = metrics.counter(BRONZE_METRICS.batches);
  const last = metrics.gauge(BRONZE_METRICS.lastBatchLatency);
  const latency = metrics.histogram(BRONZE_METRICS.batchDuration);
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
        letters.push(refusedLetter({ topic, partition, message }, err));
      }
    }
    const written = await storeCall('Postgres', () => writer.write(lines));
    await storeCall('Kafka (dead letters)', () => deadLetters.send(letters));
    metrics.rowsWritten(topic, written);
    metrics.deadLettered(topic, letters.length);
    metrics.batch(topic, (performance.now() - started) / 1000);
  };
}
