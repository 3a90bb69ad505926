import type { EnrichmentJobGold } from '../../schemas/generated/types.ts';
import { assertText, isoTimestamp, isoTimestampOrNull, uuidText } from '../shared/copy-text.ts';

/**
 * Throws InvalidRecordError when a decoded gold record has a value a store would reject (an id that
 * is not a UUID, a timestamp outside years 1-9999, a NUL in text): such a record goes to the
 * dead-letter topic instead of failing its batch forever. Checked before either sink writes, so both
 * sinks accept and refuse the same records.
 */
export function assertStorable(v: EnrichmentJobGold): void {
  uuidText(v.job_id);
  uuidText(v.workspace_id);
  for (const ms of [v.created_at, v.job_updated_at, v.processed_at]) isoTimestamp(ms);
  for (const ms of [v.finished_at, v.workspace_updated_at]) isoTimestampOrNull(ms);
  for (const text of [v.error_code, v.workspace_name, v.workspace_segment, v.workspace_country])
    assertText(text);
}
