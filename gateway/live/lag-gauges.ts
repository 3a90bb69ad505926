import type client from 'prom-client';
import { createGauge } from '../../common/metrics.ts';
import { LAG_EXPORT_METRICS } from '../../contracts/metrics/index.ts';
import type { KafkaWatch } from './kafka-watch.ts';
import type { OffsetHistory } from './offset-history.ts';

/**
 * Consumer lag as Prometheus gauges in kafka-exporter's shape (danielqsj/kafka_exporter), so the
 * Grafana dashboards written for it work against the gateway's /metrics unchanged (their
 * definitions: LAG_EXPORT_METRICS in contracts/metrics/operations.ts):
 *
 *   kafka_consumergroup_lag{consumergroup,topic,partition}             end offset − committed offset
 *   kafka_consumergroup_lag_sum{consumergroup,topic}
 *   kafka_consumergroup_current_offset{consumergroup,topic,partition}  committed offset
 *   kafka_topic_partition_current_offset{topic,partition}              end offset
 *   kafka_topic_partition_oldest_offset{topic,partition}               first offset on the broker
 *
 * plus the lag in seconds the gateway estimates (offset-history.ts), which kafka-exporter has not:
 *   tributary_consumergroup_lag_seconds{consumergroup}
 *
 * Set from each sample of the Kafka watch (about once a second): the watch is wrapped, nothing is
 * asked of Kafka twice. The gauges are cleared before each sample is written, so a deleted group or
 * topic disappears instead of freezing at its last value. The registry is the caller's, without the
 * role label the roles' registries add (kafka-exporter's series have none).
 */
export function withLagGauges(
  watch: KafkaWatch,
  offsets: OffsetHistory,
  registry: client.Registry,
  /** topics whose offsets are exported even when no watched group reads them (raw, gold, dead-letter) */
  watchedTopics: string[] = [],
): KafkaWatch {
  const m = LAG_EXPORT_METRICS;
  const lag = createGauge(m.lag, registry);
  const lagSum = createGauge(m.lagSum, registry);
  const current = createGauge(m.currentOffset, registry);
  const topicEnd = createGauge(m.topicEnd, registry);
  const topicStart = createGauge(m.topicStart, registry);
  const seconds = createGauge(m.lagSeconds, registry);
  const all = [lag, lagSum, current, topicEnd, topicStart, seconds];

  return {
    async sample(now) {
      const groups = await watch.sample(now);
      for (const g of all) g.reset();
      const topics = new Set<string>(watchedTopics);
      for (const g of groups) {
        const sums = new Map<string, number>();
        for (const c of g.committed) {
          topics.add(c.topic);
          const end = offsets.latest(c.topic)?.find((p) => p.partition === c.partition);
          if (!end || c.offset < 0) continue; // kafka-exporter reports no lag for a partition never committed
          const labels = { consumergroup: g.group, topic: c.topic, partition: String(c.partition) };
          const behind = Math.max(0, end.high - Math.max(c.offset, end.low));
          current.set(labels, c.offset);
          lag.set(labels, behind);
          sums.set(c.topic, (sums.get(c.topic) ?? 0) + behind);
        }
        for (const [topic, sum] of sums) lagSum.set({ consumergroup: g.group, topic }, sum);
        seconds.set({ consumergroup: g.group }, offsets.lag(g.committed, now).seconds);
      }
      for (const topic of topics) {
        for (const p of offsets.latest(topic) ?? []) {
          topicEnd.set({ topic, partition: String(p.partition) }, p.high);
          topicStart.set({ topic, partition: String(p.partition) }, p.low);
        }
      }
      return groups;
    },
    close: () => watch.close(),
  };
}
