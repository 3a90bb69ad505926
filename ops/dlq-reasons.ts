/**
 * Dead-letter reasons carry the offending values ("requested_count (5)", "\"abc\" is not a valid
 * uuid"), so the same problem rarely has the same text twice. To rank the most common problems the
 * values are replaced by placeholders; one example of the original text is kept per pattern.
 */
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const NUMBER = /(?<![\w-])-?\d+(\.\d+)?(?![\w-])/g;

export function reasonPattern(reason: string): string {
  return reason.replace(UUID, '<id>').replace(QUOTED, '"…"').replace(NUMBER, 'N').slice(0, 300);
}

export interface ReasonCount {
  pattern: string;
  count: number;
  example: string;
}

export class ReasonTally {
  private readonly counts = new Map<string, ReasonCount>();

  add(reason: string | undefined): void {
    const text = reason ?? '(no reason header)';
    const pattern = reasonPattern(text);
    const entry = this.counts.get(pattern);
    if (entry) entry.count++;
    else this.counts.set(pattern, { pattern, count: 1, example: text });
  }

  /** The most common patterns first (ties by pattern, so the output is stable). */
  top(n: number): ReasonCount[] {
    return [...this.counts.values()]
      .sort((a, b) => b.count - a.count || a.pattern.localeCompare(b.pattern))
      .slice(0, n);
  }
}
