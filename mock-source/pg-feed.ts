import type pg from 'pg';
import { qualified, RECORDS_TABLE, VERSIONS_TABLE } from './pg-schema.ts';
import type { PageQuery } from './store.ts';
import { type EntityName, iso } from './wire.ts';
import type { FeedReader, ServedVersion } from './world.ts';

interface VersionRow {
  id: string;
  updated_at: Date;
  body: string;
}

const served = (r: VersionRow): ServedVersion => ({
  id: r.id,
  updatedAt: r.updated_at.getTime(),
  body: r.body,
});

/**
 * One entity's change feed read from Postgres: each page is one range scan of the primary key
 * (updated_at, id), whatever the size of the history, and the JSON is served as stored (text, never
 * parsed). Each query sees one snapshot and a tick's versions are committed together, so a page
 * never shows part of a tick.
 */
export function createPostgresFeed(pool: pg.Pool, schema: string, entity: EntityName): FeedReader {
  const versions = qualified(schema, VERSIONS_TABLE[entity]);
  const records = qualified(schema, RECORDS_TABLE[entity]);
  const select = `SELECT id, updated_at, body::text AS body FROM ${versions}`;
  const order = 'ORDER BY updated_at, id';
  // One bound per query, the tighter of the cursor and updated_since: a row comparison and a
  // separate bound on its first column cannot both start the index scan, and the scan would then
  // walk from the looser one.
  const afterPosition = `${select} WHERE (updated_at, id) > ($1::timestamptz, $2::text) ${order} LIMIT $3`;
  const afterTime = `${select} WHERE updated_at > $1::timestamptz ${order} LIMIT $2`;
  const fromStart = `${select} ${order} LIMIT $1`;

  return {
    async page({ after, updatedSince, limit }: PageQuery) {
      // one more row than asked: whether versions after the page exist now
      let rows: VersionRow[];
      if (after && (updatedSince === undefined || after.updatedAt > updatedSince)) {
        ({ rows } = await pool.query<VersionRow>(afterPosition, [iso(after.updatedAt), after.id, limit + 1]));
      } else if (updatedSince !== undefined) {
        // the cursor, if any, is at or before updated_since: every version after that is after it too
        ({ rows } = await pool.query<VersionRow>(afterTime, [iso(updatedSince), limit + 1]));
      } else {
        ({ rows } = await pool.query<VersionRow>(fromStart, [limit + 1]));
      }
      return { items: rows.slice(0, limit).map(served), more: rows.length > limit };
    },
    async latest(id) {
      const { rows } = await pool.query<VersionRow>(
        `SELECT v.id, v.updated_at, v.body::text AS body FROM ${records} r
           JOIN ${versions} v ON v.updated_at = r.updated_at AND v.id = r.id
          WHERE r.id = $1`,
        [id],
      );
      return rows[0] && served(rows[0]);
    },
    async list() {
      const { rows } = await pool.query<{ id: string; updated_at: Date; malformed: boolean }>(
        `SELECT id, updated_at, malformed FROM ${versions} ${order}`,
      );
      return rows.map((r) => ({ id: r.id, updatedAt: r.updated_at.getTime(), malformed: r.malformed }));
    },
  };
}
