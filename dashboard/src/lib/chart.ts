import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { JobStatus } from '../../../contracts/job-status.ts';

// Only the pieces the dashboard draws, so the bundle carries no unused chart types.
Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);
Chart.defaults.color = '#94a3b8';
Chart.defaults.borderColor = 'rgba(148, 163, 184, 0.14)';
Chart.defaults.font.family = 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.plugins.legend.labels.boxWidth = 10;
Chart.defaults.plugins.legend.labels.boxHeight = 10;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

export type { ChartConfiguration, ChartData, ChartOptions, ChartType } from 'chart.js';
export { Chart };

export const COLORS = {
  green: '#22c55e',
  amber: '#f59e0b',
  red: '#ef4444',
  blue: '#38bdf8',
  violet: '#a78bfa',
  pink: '#f472b6',
  teal: '#2dd4bf',
  slate: '#64748b',
};

export const STAGE_COLORS: Record<string, string> = {
  polled: COLORS.blue,
  published: COLORS.teal,
  'bronze-written': COLORS.amber,
  joined: COLORS.violet,
  'gold-written': COLORS.pink,
};

/** one colour per job status (a status added to the Avro enum does not compile until it has one) */
export const STATUS_COLORS: Record<JobStatus, string> = {
  queued: COLORS.slate,
  processing: COLORS.blue,
  completed: COLORS.green,
  failed: COLORS.red,
  canceled: COLORS.amber,
};

/** the colour of a status as the API sends it (a string): slate for one the dashboard does not know */
export function statusColor(status: string): string {
  return (STATUS_COLORS as Record<string, string>)[status] ?? COLORS.slate;
}

/** the n-th colour of a series (consumer groups, …) */
export function seriesColor(i: number): string {
  const list = [COLORS.blue, COLORS.violet, COLORS.teal, COLORS.pink, COLORS.amber, COLORS.green];
  return list[i % list.length]!;
}
