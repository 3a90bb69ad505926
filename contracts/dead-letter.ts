import type { IHeaders, Message } from 'kafkajs';
import {
  DEAD_LETTER_HEADERS,
  headerText,
  isDeadLetterContext,
  LEGACY_DEAD_LETTER_HEADERS,
} from './headers.ts';

/**
 * What a dead letter is, written and read in one place. It lives in contracts/ and not in
 * consumers/shared/ because the pollers (producers/) write dead letters too, and producers/ must
 * not import consumers/.
 *
 * Value formats, one per dead-letter topic: the pollers' letters hold the API's JSON entry (there is
 * no Avro record yet: the entry is what failed validation); every consumer stage's letters (bronze,
 * processor, gold sinks) hold the source message's key, value and headers UNCHANGED, i.e. Confluent
 * Avro, so a fixed consumer can take them back as they were.
 */

/**
 * Which step refused the record, in Kafka Connect's words (`org.apache.kafka.connect.runtime.errors.Stage`):
 * the value could not be decoded; a sink could not store it or a rule refused it; the pollers'
 * validation of what the API served refused it.
 */
export const DEAD_LETTER_STAGES = {
  undecodable: 'VALUE_CONVERTER',
  refused: 'TASK_PUT',
  polled: 'TASK_POLL',
} as const;
export type DeadLetterStage = (typeof DEAD_LETTER_STAGES)[keyof typeof DEAD_LETTER_STAGES];

/** Where a record was read from. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface DeadLetterInput {
  /** the record that was refused: its key, value and headers go into the letter as they are */
  message: Pick<Message, 'key' | 'value' | 'headers'>;
  /** where it was read from; none for the pollers' letters, whose records come from an API */
  from?: RecordPosition;
  reason: string;
  stage: DeadLetterStage;
  /** who refused it: the consumer group, or the poller's transactional id */
  writer: string;
  /** the class of the error that refused it, when an error did */
  errorClass?: string;
  /** set when the caller cut the value to fit the topic: the original size in bytes */
  truncatedFrom?: number;
}

/**
 * The dead letter of a record (pure). The record's own headers are kept, except dead-letter context
 * it may carry from an earlier letter, so a letter never names two origins or two reasons.
 */
export function deadLetter(input: DeadLetterInput): Message & { headers: IHeaders } {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(input.message.headers ?? {})) {
    if (v !== undefined && !isDeadLetterContext(k) && k !== DEAD_LETTER_HEADERS.truncated) headers[k] = v;
  }
  if (input.from) {
    headers[DEAD_LETTER_HEADERS.topic] = input.from.topic;
    headers[DEAD_LETTER_HEADERS.partition] = String(input.from.partition);
    headers[DEAD_LETTER_HEADERS.offset] = input.from.offset;
  }
  headers[DEAD_LETTER_HEADERS.connectorName] = input.writer;
  headers[DEAD_LETTER_HEADERS.stage] = input.stage;
  headers[DEAD_LETTER_HEADERS.reason] = input.reason;
  if (input.errorClass !== undefined) headers[DEAD_LETTER_HEADERS.errorClass] = input.errorClass;
  if (input.truncatedFrom !== undefined) headers[DEAD_LETTER_HEADERS.truncated] = String(input.truncatedFrom);
  return { key: input.message.key ?? null, value: input.message.value, headers };
}

/** What a dead letter's headers say, whichever generation wrote them. */
export interface DeadLetterContext {
  reason: string | null;
  /** where the record was read from; null for the pollers' letters */
  from: RecordPosition | null;
  /** the consumer group or poller that wrote it; null on the processor's and the pollers' old letters */
  writer: string | null;
  /** null on letters written before the Connect names */
  stage: string | null;
  errorClass: string | null;
  /** the original size of a value cut to fit the topic */
  truncatedFrom: number | null;
}

/**
 * Reads a dead letter's context: Connect's headers, else the tributary-dlq-* ones letters carried
 * before them (dead-letter topics keep their records for good, so both generations are read).
 */
export function readDeadLetter(headers: IHeaders | undefined): DeadLetterContext {
  const text = (name: string) => headerText(headers, name);
  const truncated = Number(text(DEAD_LETTER_HEADERS.truncated) ?? Number.NaN);
  return {
    reason: text(DEAD_LETTER_HEADERS.reason) ?? text(LEGACY_DEAD_LETTER_HEADERS.reason),
    from: connectPosition(headers) ?? parsePosition(text(LEGACY_DEAD_LETTER_HEADERS.source)),
    writer: text(DEAD_LETTER_HEADERS.connectorName) ?? text(LEGACY_DEAD_LETTER_HEADERS.group),
    stage: text(DEAD_LETTER_HEADERS.stage),
    errorClass: text(DEAD_LETTER_HEADERS.errorClass),
    truncatedFrom: Number.isInteger(truncated) ? truncated : null,
  };
}

/** `raw.workspaces/2/1234`: how a position is shown (and how old letters wrote it). */
export function positionText(p: RecordPosition): string {
  return `${p.topic}/${p.partition}/${p.offset}`;
}

function connectPosition(headers: IHeaders | undefined): RecordPosition | null {
  const topic = headerText(headers, DEAD_LETTER_HEADERS.topic);
  const partition = headerText(headers, DEAD_LETTER_HEADERS.partition);
  const offset = headerText(headers, DEAD_LETTER_HEADERS.offset);
  if (!topic || partition === null || offset === null) return null;
  if (!/^\d+$/.test(partition) || !/^\d+$/.test(offset)) return null;
  return { topic, partition: Number(partition), offset };
}

/** `raw.workspaces/2/1234` → its parts (topic names cannot contain a slash), or null. */
export function parsePosition(text: string | null | undefined): RecordPosition | null {
  const m = text?.match(/^(.+)\/(\d+)\/(\d+)$/);
  if (!m) return null;
  return { topic: m[1]!, partition: Number(m[2]), offset: m[3]! };
}
