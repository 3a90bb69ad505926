import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import type pg from 'pg';
import type { LineageOptions } from '../../lineage/options.ts';
import { traceJob } from '../../lineage/trace.ts';
import type { JobLineage as TraceResult } from '../../lineage/types.ts';
import type { JobLineage } from '../schemas.ts';

/**
 * `GET /api/jobs/{id}/lineage`: the gateway's side of lineage/ (the same trace as `tributary
 * trace`), with the gateway's read-only Postgres pool and Kafka admin, and a MongoDB client opened
 * on the first trace (the live dashboard never needs one).
 */
export interface LineageService {
  trace(jobId: string): Promise<JobLineage | null>;
  close(): Promise<void>;
}

// the API's schema and the trace's type are declared apart (ops/ does not import the gateway):
// these lines stop compiling when they drift apart
const _apiFromTrace = (t: TraceResult): JobLineage => t;
const _traceFromApi = (t: JobLineage): TraceResult => t;
void _apiFromTrace;
void _traceFromApi;

export function createLineageService(deps: {
  kafka: Kafka;
  admin: Admin;
  registry: Pick<SchemaRegistry, 'decode'>;
  pool: pg.Pool;
  mongoUrl: string;
  options: LineageOptions;
}): LineageService {
  let mongo: Promise<MongoClient> | undefined;
  const client = () => {
    mongo ??= (async () => {
      const c = new MongoClient(deps.mongoUrl, { serverSelectionTimeoutMS: 5000 });
      try {
        await c.connect();
        return c;
      } catch (err) {
        mongo = undefined; // the next trace tries again
        await c.close().catch(() => {}); // a client that never connected has nothing to close
        throw err;
      }
    })();
    return mongo;
  };
  const { options } = deps;
  return {
    trace: (jobId) =>
      traceJob(
        {
          kafka: deps.kafka,
          admin: deps.admin,
          registry: deps.registry,
          db: deps.pool,
          mongo: async () =>
            (await client()).db(options.mongo.database).collection<{ _id: string }>(options.mongo.collection),
        },
        options,
        jobId.toLowerCase(),
      ),
    async close() {
      const m = mongo;
      mongo = undefined;
      if (m) await (await m.catch(() => undefined))?.close();
    },
  };
}
