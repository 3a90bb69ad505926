import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { RemoteError } from '../../common/errors.ts';

/** A decoded value, or why it cannot be decoded (the reason goes to the dead-letter topic). */
export type Decoded<T> = { ok: true; value: T; schemaId: number } | { ok: false; reason: string };

export interface AvroDecoder<T> {
  /**
   * Fetches the writer schemas of these values that are not cached yet: one registry request per
   * new schema id, never one per message. Throws a retriable RemoteError when the registry cannot
   * be reached, so the batch is retried instead of dead-lettered.
   */
  prepare(values: ReadonlyArray<Buffer | null>): Promise<void>;
  /** Synchronous once `prepare` has seen the value: no await per record on the hot path. */
  decode(value: Buffer | null): Decoded<T>;
}

type Resolution = { resolver: avro.Resolver } | { error: string };

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;
const UNKNOWN_TTL_MS = 30_000;

/**
 * Decodes Confluent wire-format Avro (magic byte 0, 4-byte schema id, Avro binary) into the reader
 * schema of this project, resolving from the writer schema the registry holds for the id. A value
 * written with an incompatible schema (another record type) fails resolution and is reported as
 * undecodable rather than read as garbage.
 *
 * Why not `registry.decode()`: it is async per message and would put an await per record on the hot
 * path; here the registry is asked once per schema id and decoding is synchronous.
 */
export function createAvroDecoder<T>(deps: {
  registry: SchemaRegistry;
  readerType: avro.Type;
}): AvroDecoder<T> {
  const { registry, readerType } = deps;
  const resolutions = new Map<number, Resolution>();
  // Ids the registry does not know are remembered briefly, not forever: a registry restored from a
  // backup may learn them later, and a batch after UNKNOWN_TTL_MS asks again. (Not per batch: one
  // decoder serves partitions consumed concurrently, whose prepare/decode calls interleave.)
  const unknownIds = new Map<number, { resolution: Resolution; at: number }>();

  async function resolve(id: number): Promise<{ resolution: Resolution; known: boolean }> {
    let writer: unknown;
    try {
      writer = await registry.getSchema(id);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) {
        return { resolution: { error: `schema id ${id} is unknown to the schema registry` }, known: false };
      }
      throw new RemoteError(
        `schema registry: cannot fetch schema id ${id}: ${(err as Error).message}`,
        status,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    if (typeof (writer as avro.Type | undefined)?.createResolver !== 'function') {
      return { resolution: { error: `schema id ${id} is not an Avro schema` }, known: true };
    }
    try {
      return { resolution: { resolver: readerType.createResolver(writer as avro.Type) }, known: true };
    } catch (err) {
      const name = (writer as avro.Type).name ?? 'an unnamed type';
      const error = `schema id ${id} (${name}) cannot be read as ${readerType.name}: ${(err as Error).message}`;
      return { resolution: { error }, known: true };
    }
  }

  return {
    async prepare(values) {
      const now = Date.now();
      const missing = new Set<number>();
      for (const v of values) {
        if (v && v.length >= HEADER_BYTES && v[0] === MAGIC_BYTE) {
          const id = v.readUInt32BE(1);
          const unknown = unknownIds.get(id);
          if (!resolutions.has(id) && (!unknown || now - unknown.at > UNKNOWN_TTL_MS)) missing.add(id);
        }
      }
      for (const id of missing) {
        const { resolution, known } = await resolve(id);
        if (known) resolutions.set(id, resolution);
        else unknownIds.set(id, { resolution, at: Date.now() });
      }
    },
    decode(value) {
      if (value === null) return { ok: false, reason: 'the value is null (tombstone), not an Avro record' };
      if (value.length < HEADER_BYTES || value[0] !== MAGIC_BYTE) {
        return { ok: false, reason: 'not Confluent Avro wire format (no magic byte 0 and schema id)' };
      }
      const id = value.readUInt32BE(1);
      const r = resolutions.get(id) ?? unknownIds.get(id)?.resolution;
      if (!r) return { ok: false, reason: `schema id ${id} was not prepared (decoder misuse)` };
      if ('error' in r) return { ok: false, reason: r.error };
      try {
        return {
          ok: true,
          value: readerType.fromBuffer(value.subarray(HEADER_BYTES), r.resolver) as T,
          schemaId: id,
        };
      } catch (err) {
        return {
          ok: false,
          reason: `schema id ${id}: the Avro payload is invalid: ${(err as Error).message}`,
        };
      }
    },
  };
}
