import { type AnyBulkWriteOperation, type Collection, MongoBulkWriteError } from 'mongodb';
import { TributaryError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { GoldSink } from './postgres-sink.ts';
import {
  type GoldPosition,
  type GoldRecord,
  latestPerJob,
  positionOf,
  replaces,
  UNKNOWN_OFFSET,
} from './version.ts';

/** A gold document: the record's fields with timestamps as Date, `_id` = job id, plus lineage. */
export interface GoldDocument {
  _id: string;
  [field: string]: unknown;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));
const DUPLICATE_KEY = 11000;
/**
 * Ids per `$in` read and documents per write command. 1,000 is mongo-java-server's
 * maxWriteBatchSize (the driver would split there anyway), and 1,000 gold documents (~1 KB each) or
 * ids stay far below MongoDB's 16 MB document and 48 MB message limits.
 */
const CHUNK = 1000;
/** Read-decide-write rounds per batch before giving up (only concurrent writers cause a new round). */
const MAX_ROUNDS = 5;

/**
 * Indexes for the dashboard's queries: status counts, time windows, breakdowns, per workspace.
 * Left with MongoDB's default names (status_1, created_at_-1, …): creating an index that already
 * exists under its default name is a no-op, whoever created it first.
 */
export const GOLD_MONGO_INDEXES: ReadonlyArray<Record<string, 1 | -1>> = [
  { status: 1 },
  { created_at: -1 },
  { workspace_plan: 1 },
  { workspace_segment: 1 },
  { workspace_country: 1 },
  { workspace_id: 1 },
];

/**
 * The index the sink's compare-and-set filter `{_id, source_partition, source_offset}` uses.
 * MongoDB would use `_id_` for it anyway; mongo-java-server uses an index only when the filter's
 * fields are exactly the index's, and scans the whole collection otherwise (32 docs/s at 20,000
 * documents). Unique because mongo-java-server only looks up unique indexes (it is trivially
 * unique: `_id` is).
 */
export const GOLD_MONGO_POSITION_INDEX = { _id: 1, source_partition: 1, source_offset: 1 } as const;

export function toGoldDocument(r: GoldRecord, writtenAt: Date): GoldDocument {
  const v = r.value;
  return {
    _id: v.job_id,
    ...v,
    created_at: new Date(v.created_at),
    finished_at: date(v.finished_at),
    job_updated_at: new Date(v.job_updated_at),
    workspace_updated_at: date(v.workspace_updated_at),
    processed_at: new Date(v.processed_at),
    source_partition: r.partition,
    source_offset: Number(r.offset),
    written_at: writtenAt,
  };
}

/** What is stored for a job: its position as the rule reads it, and the raw fields for the filter. */
interface Stored {
  position: GoldPosition;
  raw: { source_partition: unknown; source_offset: unknown };
}

/**
 * Per batch: the latest record per job; one projected `find({_id: {$in}})` per 1,000 ids reads the
 * stored positions; the rule of version.ts decides here which records win; then `_id`-keyed writes:
 * `insertMany` (unordered) for jobs not stored, and for stored ones `replaceOne` with `upsert: true`
 * filtered on `{_id, source_partition, source_offset}` as read: a compare-and-set.
 *
 * Duplicate-key errors (E11000) mean another writer got there between the read and the write: an
 * insert met a document inserted meanwhile, or a replace found the stored position changed (its
 * filter no longer matches, and the upsert's insert collides on `_id`). Those jobs are read again
 * and decided again, never dropped. Unordered bulks go on after an error, so every other write of
 * the chunk is done, and the rest of the batch with it. Any other write error fails the batch,
 * which is then redelivered (offsets are committed after the write).
 *
 * Concurrent writers: each gold key has one writer at a time, the owner of its gold-topic partition
 * in the sink's group. A zombie (an instance that lost the partition, e.g. after a pause longer than
 * the session timeout, and finishes its batch anyway) holds records of the topic that the new owner
 * reads too. Every write is decided against the position the writer read and lands only if that
 * position is still stored (an insert only if nothing is stored), so the stored position never
 * moves back: a zombie's record lands only when it is later on the topic than what is stored, i.e.
 * when the new owner would write it too. A zombie's stale write is thus harmless, and every
 * collision is logged (warn) with its count, which makes a zombie visible.
 */
export function createMongoGoldSink(deps: {
  collection: Collection<GoldDocument>;
  logger?: Logger;
}): GoldSink & {
  ensureIndexes(): Promise<void>;
} {
  const { collection } = deps;

  async function readStored(ids: string[]): Promise<Map<string, Stored>> {
    const stored = new Map<string, Stored>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const docs = await collection
        .find(
          { _id: { $in: chunk } },
          { projection: { source_partition: 1, source_offset: 1 }, batchSize: chunk.length },
        )
        .toArray();
      for (const d of docs) {
        const raw = { source_partition: d.source_partition ?? null, source_offset: d.source_offset ?? null };
        stored.set(d._id, { position: readPosition(raw), raw });
      }
    }
    return stored;
  }

  /** Inserts the documents of jobs not stored; returns how many were inserted and the collisions. */
  async function insertNew(records: GoldRecord[], now: Date) {
    let written = 0;
    const collided: GoldRecord[] = [];
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
      const failed = await duplicateKeyIndexes(() =>
        collection.insertMany(
          chunk.map((r) => toGoldDocument(r, now)),
          { ordered: false },
        ),
      );
      written += chunk.length - failed.length;
      for (const index of failed) collided.push(chunk[index]!);
    }
    return { written, collided };
  }

  /** Replaces stored documents where the position read is still stored (compare-and-set). */
  async function replaceStored(writes: Array<[GoldRecord, Stored]>, now: Date) {
    let written = 0;
    const collided: GoldRecord[] = [];
    for (let i = 0; i < writes.length; i += CHUNK) {
      const chunk = writes.slice(i, i + CHUNK);
      const ops: AnyBulkWriteOperation<GoldDocument>[] = chunk.map(([r, stored]) => {
        const { _id, ...replacement } = toGoldDocument(r, now);
        return { replaceOne: { filter: { _id, ...stored.raw }, replacement, upsert: true } };
      });
      const failed = await duplicateKeyIndexes(() => collection.bulkWrite(ops, { ordered: false }));
      written += chunk.length - failed.length;
      for (const index of failed) collided.push(chunk[index]![0]);
    }
    return { written, collided };
  }

  return {
    async ensureIndexes() {
      await collection.createIndexes([
        ...GOLD_MONGO_INDEXES.map((key) => ({ key: { ...key } })),
        { key: { ...GOLD_MONGO_POSITION_INDEX }, unique: true },
      ]);
    },
    async write(records) {
      let pending = latestPerJob(records);
      let written = 0;
      for (let round = 1; pending.length > 0; round++) {
        if (round > MAX_ROUNDS) {
          throw new TributaryError(
            `${pending.length} gold documents changed under the sink ${MAX_ROUNDS} times in a row (first: ${pending[0]!.value.job_id})`,
            {
              retriable: true,
              fix: 'check that one sink instance per partition writes to this collection (same TRIBUTARY_GOLD_MONGO_GROUP), and that no other process writes gold documents',
            },
          );
        }
        const stored = await readStored(pending.map((r) => r.value.job_id));
        const fresh: GoldRecord[] = [];
        const later: Array<[GoldRecord, Stored]> = [];
        for (const r of pending) {
          const s = stored.get(r.value.job_id);
          if (s === undefined) fresh.push(r);
          else if (replaces(positionOf(r), s.position)) later.push([r, s]);
        }
        const now = new Date();
        const inserted = await insertNew(fresh, now);
        const replaced = await replaceStored(later, now);
        written += inserted.written + replaced.written;
        pending = [...inserted.collided, ...replaced.collided];
        if (pending.length > 0) {
          deps.logger?.warn(
            { collisions: pending.length, round, collection: collection.collectionName },
            'gold documents changed between read and write (another writer: a zombie instance or a second sink on the same partition); reading them again',
          );
        }
      }
      return written;
    },
  };
}

/** The stored position as the rule reads it: anything but two numbers is "unknown" (replaced). */
function readPosition(raw: Stored['raw']): GoldPosition {
  const { source_partition: p, source_offset: o } = raw;
  if (typeof p !== 'number' || typeof o !== 'number') return { partition: 0, offset: UNKNOWN_OFFSET };
  return { partition: p, offset: o };
}

/**
 * Runs an unordered bulk and returns the indexes of the writes that failed with a duplicate key.
 * Throws on anything else: another write error, a write-concern error, or a failed command.
 */
async function duplicateKeyIndexes(run: () => Promise<unknown>): Promise<number[]> {
  try {
    await run();
    return [];
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (
      errors.length === 0 ||
      err.result.getWriteConcernError() !== undefined ||
      errors.some((e) => e.code !== DUPLICATE_KEY)
    ) {
      throw err;
    }
    return errors.map((e) => e.index);
  }
}
