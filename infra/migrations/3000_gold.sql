-- Up Migration
-- Gold: one row per enrichment job, joined with the latest state of its workspace. Written by the
-- consumer group tributary.gold.postgres from the gold.enrichment-jobs topic; an upsert only
-- replaces a row when (job_updated_at, workspace_updated_at) is newer, so replays are harmless.
CREATE TABLE IF NOT EXISTS gold.enrichment_jobs (
  job_id               uuid PRIMARY KEY,
  workspace_id         uuid NOT NULL,
  kind                 text NOT NULL,
  status               text NOT NULL,
  requested_count      integer NOT NULL,
  enriched_count       integer NOT NULL,
  failed_count         integer NOT NULL,
  error_code           text,
  created_at           timestamptz NOT NULL,
  finished_at          timestamptz,
  workspace_name       text,
  workspace_plan       text,
  workspace_segment    text,
  workspace_country    text,
  workspace_resolved   boolean NOT NULL,
  duration_ms          bigint,
  success_rate         double precision,
  is_terminal          boolean NOT NULL,
  job_updated_at       timestamptz NOT NULL,
  workspace_updated_at timestamptz,
  processed_at         timestamptz NOT NULL,
  -- lineage: where on the gold topic this version came from
  source_partition     integer NOT NULL,
  source_offset        bigint NOT NULL,
  written_at           timestamptz NOT NULL DEFAULT now()
);
-- Indexes for the dashboard's queries (status counts, time windows, breakdowns, per workspace).
CREATE INDEX IF NOT EXISTS enrichment_jobs_status_idx ON gold.enrichment_jobs (status);
CREATE INDEX IF NOT EXISTS enrichment_jobs_created_at_idx ON gold.enrichment_jobs (created_at DESC, job_id);
CREATE INDEX IF NOT EXISTS enrichment_jobs_finished_at_idx ON gold.enrichment_jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS enrichment_jobs_workspace_idx ON gold.enrichment_jobs (workspace_id);
CREATE INDEX IF NOT EXISTS enrichment_jobs_plan_idx ON gold.enrichment_jobs (workspace_plan);
CREATE INDEX IF NOT EXISTS enrichment_jobs_segment_idx ON gold.enrichment_jobs (workspace_segment);
CREATE INDEX IF NOT EXISTS enrichment_jobs_country_idx ON gold.enrichment_jobs (workspace_country);

-- Down Migration
DROP TABLE IF EXISTS gold.enrichment_jobs;
