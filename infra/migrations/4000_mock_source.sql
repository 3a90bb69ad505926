-- Up Migration
-- The mock source's world (mock-source/), so that a restarted mock source continues the same world
-- instead of inventing a new one with the same ids. Written only by the mock-source role (one at a
-- time per schema: it holds an advisory lock), emptied by `tributary reset --topics`. A mock source
-- configured with another TRIBUTARY_MOCK_SOURCE_SCHEMA creates that schema with copies of these
-- tables (LIKE … INCLUDING ALL), so this file stays their one definition.
CREATE SCHEMA IF NOT EXISTS mock_source;

-- The change feed of each API: every version ever written, never updated or deleted. The list
-- endpoints read it in (updated_at, id) order, which is the primary key; ids compare byte-wise
-- (COLLATE "C"), as the API's cursor does.
CREATE TABLE IF NOT EXISTS mock_source.workspace_versions (
  updated_at timestamptz NOT NULL,
  id         text COLLATE "C" NOT NULL,
  malformed  boolean NOT NULL,
  body       json NOT NULL,
  CONSTRAINT workspace_versions_pkey PRIMARY KEY (updated_at, id)
);
CREATE TABLE IF NOT EXISTS mock_source.enrichment_job_versions (
  updated_at timestamptz NOT NULL,
  id         text COLLATE "C" NOT NULL,
  malformed  boolean NOT NULL,
  body       json NOT NULL,
  CONSTRAINT enrichment_job_versions_pkey PRIMARY KEY (updated_at, id)
);

-- The current state of each record: what the simulator continues from. `updated_at` is that of the
-- latest version (GET /v1/…/{id} joins on it); when that version is valid its JSON is the state, and
-- when it is `malformed` (the next tick writes a valid one) `state` holds the valid state (epoch-ms
-- timestamps). `seq` is the creation order (the simulator draws workspaces by position),
-- `active_slot` the position of a job that has not finished in the simulator's list of active jobs.
CREATE TABLE IF NOT EXISTS mock_source.workspaces (
  id         text COLLATE "C" PRIMARY KEY,
  seq        bigint NOT NULL CHECK (seq >= 0),
  state      json,
  updated_at timestamptz NOT NULL,
  malformed  boolean NOT NULL,
  CONSTRAINT workspaces_state_check CHECK (malformed = (state IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS mock_source.enrichment_jobs (
  id          text COLLATE "C" PRIMARY KEY,
  seq         bigint NOT NULL CHECK (seq >= 0),
  state       json,
  updated_at  timestamptz NOT NULL,
  malformed   boolean NOT NULL,
  active_slot integer CHECK (active_slot >= 0),
  CONSTRAINT enrichment_jobs_state_check CHECK (malformed = (state IS NOT NULL))
);
-- A restart reads the jobs still running and the records to repair, not every job ever created.
CREATE INDEX IF NOT EXISTS enrichment_jobs_active_idx ON mock_source.enrichment_jobs (active_slot)
  WHERE active_slot IS NOT NULL;
CREATE INDEX IF NOT EXISTS enrichment_jobs_malformed_idx ON mock_source.enrichment_jobs (id) WHERE malformed;

-- The simulator itself: one row. `rng_words`/`rng_index` are the Mersenne Twister's state (624
-- little-endian int32 words), so the random sequence continues where it stopped; `ticks` guards
-- every write (a tick updates the row only if it still holds the tick it follows).
CREATE TABLE IF NOT EXISTS mock_source.simulator (
  singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seed               bigint NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_tick_at       timestamptz NOT NULL,
  ticks              bigint NOT NULL,
  rng_words          bytea NOT NULL,
  rng_index          integer NOT NULL,
  workspaces         integer NOT NULL,
  jobs               integer NOT NULL,
  workspace_versions bigint NOT NULL,
  job_versions       bigint NOT NULL,
  malformed_versions bigint NOT NULL
);

-- Down Migration
DROP SCHEMA IF EXISTS mock_source CASCADE;
