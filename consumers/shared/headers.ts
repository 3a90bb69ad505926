import type { IHeaders } from 'kafkajs';
import { headerText } from '../../contracts/headers.ts';
import { isoTimestamp } from './copy-text.ts';

/**
 * An ISO timestamp header normalised for a timestamptz column, or null when absent, unparsable or
 * out of range: lineage headers are informative, and a bad one must not keep a record out of bronze.
 */
export function headerIsoTimestamp(headers: IHeaders | undefined, name: string): string | null {
  const text = headerText(headers, name);
  return text === null ? null : isoFromText(text);
}

/** The Kafka record timestamp (epoch ms as a string; -1 when the producer set none) as ISO, or null. */
export function kafkaTimestampIso(timestamp: string): string | null {
  return isoFromEpochText(timestamp);
}

/**
 * Remembers the last conversion: the records of one poll share their fetched-at header, and those
 * produced together their Kafka timestamp, so most rows of a batch skip the date formatting.
 */
function lastValueCache(convert: (text: string) => string | null): (text: string) => string | null {
  let lastText: string | undefined;
  let lastValue: string | null = null;
  return (text) => {
    if (text !== lastText) {
      lastValue = convert(text);
      lastText = text;
    }
    return lastValue;
  };
}

const isoFromText = lastValueCache((text) => lenientIso(Date.parse(text)));
const isoFromEpochText = lastValueCache((text) => {
  const ms = Number(text);
  return ms < 0 ? null : lenientIso(ms);
});

function lenientIso(ms: number): string | null {
  try {
    return isoTimestamp(ms);
  } catch {
    return null;
  }
}
