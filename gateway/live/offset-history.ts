/**
 * End offsets of the watched topics, sampled by the gateway about once a second and kept for the
 * history window. Two uses:
 * - rates of a topic (records appended per second: the "published" stage);
 * - the time lag of a consumer group, as kafka-lag-exporter does it: the message at a group's
 *   committed offset was appended between the last sample whose end offset was at or below it and
 *   the first sample past it, so its age is interpolated from those two samples. No message has to
 *   be fetched, and the error is at most one sampling interval. When the message predates the
 *   oldest sample, the age is a lower bound (`secondsAtLeast`).
 */
export interface PartitionEnd {
  topic: string;
  partition: number;
  /** end offset (the next offset to be written) */
  high: number;
  /** first offset still on the broker */
  low: number;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** the next offset the group will read; -1 when it never committed */
  offset: number;
}

export interface LagEstimate {
  messages: number;
  seconds: number;
  secondsAtLeast: boolean;
}

export interface OffsetHistory {
  record(now: number, ends: PartitionEnd[]): void;
  /** latest known end offsets of a topic, or undefined when never sampled */
  latest(topic: string): PartitionEnd[] | undefined;
  /** records appended per second over the window, summed over the topics; null with < 2 samples */
  rate(topics: string[], now: number, windowMs: number): number | null;
  /** records appended over the window */
  increase(topic: string, now: number, windowMs: number): number;
  lag(committed: CommittedOffset[], now: number): LagEstimate;
}

interface Point {
  t: number;
  high: number;
}

export function createOffsetHistory(opts: { retainMs: number }): OffsetHistory {
  const points = new Map<string, Point[]>();
  const latestEnds = new Map<string, Map<number, PartitionEnd>>();
  const key = (topic: string, partition: number) => `${partition}:${topic}`;

  function window(
    topic: string,
    partition: number,
    now: number,
    windowMs: number,
  ): [Point, Point] | undefined {
    const list = points.get(key(topic, partition));
    if (!list || list.length === 0) return undefined;
    const latest = list.at(-1)!;
    const base = list.find((p) => p.t >= now - windowMs) ?? latest;
    return [base, latest];
  }

  function ageOf(topic: string, partition: number, offset: number, now: number): [number, boolean] {
    const list = points.get(key(topic, partition)) ?? [];
    const i = list.findIndex((p) => p.high > offset);
    if (i < 0) return [0, false];
    if (i === 0) return [now - list[0]!.t, true];
    const before = list[i - 1]!;
    const after = list[i]!;
    // offsets before.high .. after.high-1 were appended in (before.t, after.t]
    const fraction = (offset - before.high + 1) / (after.high - before.high);
    return [now - (before.t + fraction * (after.t - before.t)), false];
  }

  return {
    record(now, ends) {
      for (const end of ends) {
        const k = key(end.topic, end.partition);
        let list = points.get(k);
        if (!list) {
          list = [];
          points.set(k, list);
        }
        list.push({ t: now, high: end.high });
        // keep one point older than the window, so offsets appended just before it still interpolate
        while (list.length > 2 && list[1]!.t < now - opts.retainMs) list.shift();
        let byPartition = latestEnds.get(end.topic);
        if (!byPartition) {
          byPartition = new Map();
          latestEnds.set(end.topic, byPartition);
        }
        byPartition.set(end.partition, end);
      }
    },
    latest(topic) {
      const byPartition = latestEnds.get(topic);
      return byPartition ? [...byPartition.values()] : undefined;
    },
    rate(topics, now, windowMs) {
      let appended = 0;
      let seconds = 0;
      for (const topic of topics) {
        for (const end of latestEnds.get(topic)?.values() ?? []) {
          const w = window(topic, end.partition, now, windowMs);
          if (!w || w[0] === w[1]) continue;
          appended += w[1].high - w[0].high;
          seconds = Math.max(seconds, (w[1].t - w[0].t) / 1000);
        }
      }
      return seconds > 0 ? appended / seconds : null;
    },
    increase(topic, now, windowMs) {
      let appended = 0;
      for (const end of latestEnds.get(topic)?.values() ?? []) {
        const w = window(topic, end.partition, now, windowMs);
        if (w) appended += w[1].high - w[0].high;
      }
      return appended;
    },
    lag(committed, now) {
      let messages = 0;
      let seconds = 0;
      let secondsAtLeast = false;
      for (const c of committed) {
        const end = latestEnds.get(c.topic)?.get(c.partition);
        if (!end || c.offset < 0) continue;
        const from = Math.max(c.offset, end.low);
        if (from >= end.high) continue;
        messages += end.high - from;
        const [age, atLeast] = ageOf(c.topic, c.partition, from, now);
        if (age > seconds) {
          seconds = age;
          secondsAtLeast = atLeast;
        }
      }
      return { messages, seconds: Math.max(0, Math.round(seconds / 100) / 10), secondsAtLeast };
    },
  };
}
