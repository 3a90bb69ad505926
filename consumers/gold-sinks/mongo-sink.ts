import { type AnyBulkWriteOperation, type Collection, type Filter, MongoBulkWriteError } from 'mongodb';
import type { GoldSink } from './postgres-sink.ts';
import type { GoldRecord } from './version.ts';

/** A gold document: the record's fields with timestamps as Date, `_id` = job id, plus lineage. */
export interface GoldDocument {
  _id: string;
  [field: string]: unknown;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));
const DUPLICATE_KEY = 11000;

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

/**
 * Matches the stored document only when it is older than `r` by the rule of version.ts. Written
 * without $expr and with `field: null` (which matches null and missing) so that it runs the same on
 * MongoDB and on mongo-java-server.
 */
export function olderThan(r: GoldRecord): Filter<GoldDocument> {
  const j = new Date(r.value.job_updated_at);
  const w = date(r.value.workspace_updated_at);
  if (w === null) return { _id: r.value.job_id, job_updated_at: { $lt: j } };
  return {
    _id: r.value.job_id,
    $or: [
      { job_updated_at: { $lt: j } },
      { job_updated_at: j, workspace_updated_at: null },
      { job_updated_at: j, workspace_updated_at: { $lt: w } },
    ],
  };
}

/**
 * Unordered bulk of guarded upserts. When the stored document is as new or newer the filter does
 * not match, the upsert tries to insert a second document with the same _id, and the server answers
 * E11000 duplicate key: that is the version guard saying no, so those errors are no-ops. Any other
 * write error fails the batch (and it is retried, the offsets not being committed).
 */
export function createMongoGoldSink(deps: { collection: Collection<GoldDocument> }): GoldSink & {
  ensureIndexes(): Promise<void>;
} {
  return {
    async ensureIndexes() {
      await deps.collection.createIndexes(GOLD_MONGO_INDEXES.map((key) => ({ key: { ...key } })));
    },
    async write(records) {
      if (records.length === 0) return 0;
      const now = new Date();
      const ops: AnyBulkWriteOperation<GoldDocument>[] = records.map((r) => {
        const { _id, ...fields } = toGoldDocument(r, now);
        return { updateOne: { filter: olderThan(r), update: { $set: fields }, upsert: true } };
      });
      try {
        const res = await deps.collection.bulkWrite(ops, { ordered: false });
        return res.upsertedCount + res.modifiedCount;
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError) || !onlyVersionConflicts(err)) throw err;
        return err.result.upsertedCount + err.result.modifiedCount;
      }
    },
  };
}

function onlyVersionConflicts(err: MongoBulkWriteError): boolean {
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return (
    writeErrors.length > 0 &&
    err.result.getWriteConcernError() === undefined &&
    writeErrors.every((e) => e.code === DUPLICATE_KEY)
  );
}
