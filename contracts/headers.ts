import type { IHeaders } from 'kafkajs';

/**
 * Every Kafka header name the pipeline writes or reads, defined once. Writers and readers import
 * these; nothing else spells a header name.
 */

/** Lineage the pollers put on every raw record; it travels with the record into its dead letters. */
export const HEADERS = {
  /** which API the record came from (`workspaces`, `enrichment-jobs`) */
  source: 'tributary-source',
  /** when the poller fetched the page (ISO) */
  fetchedAt: 'tributary-fetched-at',
  /** the source response's `x-request-id` */
  requestId: 'tributary-request-id',
  /** the version key (id@updated_at, or a content hash) a restarted poller dedupes the window by */
  version: 'tributary-version',
  /** the updated_at (epoch ms) the version is remembered by in the overlap window */
  versionAt: 'tributary-version-at',
  /** on a walk summary (`_tributary.walks`): the walk's id */
  walkId: 'tributary-walk-id',
  /** set by `tributary dlq redrive`: `<dlq topic>/<partition>/<offset>` of the letter re-injected */
  redrivenFrom: 'tributary-redriven-from',
} as const;

/**
 * The headers of a dead letter: Kafka Connect's names (`errors.deadletterqueue.context.headers.enable`)
 * wherever Connect has one, so tools that read Connect's dead-letter queues read ours; a
 * tributary name only where Connect has none. Written by contracts/dead-letter.ts alone.
 */
export const DEAD_LETTER_HEADERS = {
  /** the topic the record was read from (absent on the pollers' letters: they come from an API) */
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  /** who dead-lettered it: the consumer group, or the poller's transactional id */
  connectorName: '__connect.errors.connector.name',
  /** which step refused it (DEAD_LETTER_STAGES) */
  stage: '__connect.errors.stage',
  /** why: schema violations, undecodable, a business rule the record breaks */
  reason: '__connect.errors.exception.message',
  /** the class of the error that refused it, when an error did */
  errorClass: '__connect.errors.exception.class.name',
  /** the original size in bytes of a letter whose value was cut to fit its topic (Connect has none) */
  truncated: 'tributary-dlq-truncated',
} as const;

/**
 * The names dead letters carried before Connect's (until issue 15). Dead-letter topics keep their
 * records for good, so readers still understand them (contracts/dead-letter.ts); nothing writes them.
 */
export const LEGACY_DEAD_LETTER_HEADERS = {
  reason: 'tributary-dlq-reason',
  /** `<topic>/<partition>/<offset>` of the original record (bronze, processor, gold sinks) */
  source: 'tributary-dlq-source',
  /** the consumer group that dead-lettered it (bronze, gold sinks) */
  group: 'tributary-dlq-group',
} as const;

const CONTEXT_NAMES: ReadonlySet<string> = new Set([
  ...Object.values(DEAD_LETTER_HEADERS).filter((h) => h !== DEAD_LETTER_HEADERS.truncated),
  ...Object.values(LEGACY_DEAD_LETTER_HEADERS),
]);

/**
 * True for the headers that say where a dead letter came from, who wrote it and why (either
 * generation): a redrive drops them. `tributary-dlq-truncated` is not one: it describes the value,
 * and stays with it.
 */
export function isDeadLetterContext(name: string): boolean {
  return CONTEXT_NAMES.has(name);
}

/** A header's value as text (the first one when repeated), or null when absent. */
export function headerText(headers: IHeaders | undefined, name: string): string | null {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}
