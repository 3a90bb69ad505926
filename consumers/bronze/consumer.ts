import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer } from 'kafkajs';
import type pg from 'pg';
import type { Liveness } from '../../common/liveness.ts';
import type { Logger } from '../../common/logger.ts';
import { avroType } from '../../schemas/index.ts';
import { createAvroDecoder } from '../shared/avro-decoder.ts';
import { type BatchConsumer, createBatchConsumer } from '../shared/batch-consumer.ts';
import type { DeadLetterQueue } from '../shared/dead-letter.ts';
import { type BronzeMetrics, createBronzeIngest } from './ingest.ts';
import type { BronzeOptions, BronzeTopicOptions } from './options.ts';
import { BRONZE_TABLES } from './tables.ts';
import { createBronzeWriter } from './writer.ts';

/**
 * One bronze writer: one raw topic, one consumer group, one table. The kafkajs consumers are created
 * by the caller (with consumerConfig) so a benchmark or test can observe their events.
 */
export function createBronzeConsumer(deps: {
  createConsumer: () => Consumer;
  registry: SchemaRegistry;
  pool: pg.Pool;
  deadLetters: DeadLetterQueue;
  metrics: BronzeMetrics;
  logger: Logger;
  topic: BronzeTopicOptions;
  options: Pick<BronzeOptions, 'batchSize' | 'partitionsConcurrently'>;
  liveness?: Liveness;
}): BatchConsumer {
  const table = BRONZE_TABLES[deps.topic.name];
  const handle = createBronzeIngest({
    table,
    decoder: createAvroDecoder({ registry: deps.registry, readerType: avroType(table.schema) }),
    writer: createBronzeWriter({ pool: deps.pool, table: table.table, recordColumns: table.recordColumns }),
    deadLetters: deps.deadLetters,
    metrics: deps.metrics,
  });
  return createBatchConsumer({
    createConsumer: deps.createConsumer,
    groupId: deps.topic.groupId,
    topic: deps.topic.topic,
    // Bronze keeps every version ever published: a new group starts at the beginning.
    fromBeginning: true,
    batchSize: deps.options.batchSize,
    partitionsConsumedConcurrently: deps.options.partitionsConcurrently,
    handle,
    logger: deps.logger.child({ topic: deps.topic.topic, group: deps.topic.groupId }),
    liveness: deps.liveness,
  });
}
