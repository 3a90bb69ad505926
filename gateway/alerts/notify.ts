import { describeError, RemoteError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { parseRetryAfter, type RetryPolicy, withRetry } from '../../common/retry.ts';
import type { WebhookConfig } from './rules.ts';
import type { AlertItem } from './schemas.ts';

/**
 * Sends each firing and each resolution to every webhook, once: one queue per webhook, so a
 * webhook receives an alert's resolution after its firing, and a slow or failing webhook delays
 * only itself. A delivery that fails with a network error, a 5xx or a 429 is retried with backoff
 * (common/retry.ts); a 4xx is given up at once. Either way the outcome is logged and counted.
 */
export interface WebhookStatus {
  name: string;
  format: string;
  delivered: number;
  failed: number;
  lastError: string | null;
}

export interface Notifier {
  /** queues the alert (state firing or resolved) for every webhook; never throws */
  send(alert: AlertItem): void;
  status(): WebhookStatus[];
  /** waits for the deliveries in flight up to `graceMs`, then abandons the rest */
  close(graceMs?: number): Promise<void>;
}

export const WEBHOOK_RETRY: RetryPolicy = {
  retries: 6,
  minDelayMs: 1000,
  maxDelayMs: 30_000,
  maxElapsedMs: 5 * 60_000,
  maxRetryAfterMs: 60_000,
};

export function createNotifier(deps: {
  webhooks: WebhookConfig[];
  logger: Logger;
  retry?: RetryPolicy;
  timeoutMs?: number;
  /** a link to the dashboard in messages, e.g. http://127.0.0.1:3000/ */
  dashboardUrl?: string;
  onDelivery?: (webhook: string, ok: boolean) => void;
}): Notifier {
  const abort = new AbortController();
  const hooks = deps.webhooks.map((config) => ({
    config,
    queue: Promise.resolve(),
    status: {
      name: config.name,
      format: config.format,
      delivered: 0,
      failed: 0,
      lastError: null,
    } as WebhookStatus,
  }));

  async function deliver(config: WebhookConfig, alert: AlertItem): Promise<void> {
    const body = JSON.stringify(
      config.format === 'slack'
        ? slackPayload(alert, deps.dashboardUrl)
        : jsonPayload(alert, deps.dashboardUrl),
    );
    await withRetry(
      async () => {
        let res: Response;
        try {
          res = await fetch(config.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...config.headers },
            body,
            signal: AbortSignal.any([abort.signal, AbortSignal.timeout(deps.timeoutMs ?? 10_000)]),
          });
        } catch (err) {
          if (abort.signal.aborted) throw err;
          throw new RemoteError(`webhook ${config.name}: ${describeError(err)}`, undefined, {
            retriable: true,
            cause: err,
          });
        }
        // the body is not needed; reading it frees the connection
        await res.arrayBuffer().catch(() => undefined); // a body cut short changes nothing once the status is known
        if (res.ok) return;
        throw new RemoteError(`webhook ${config.name} answered HTTP ${res.status}`, res.status, {
          retriable: res.status >= 500 || res.status === 429 || res.status === 408,
          retryAfterMs: res.status === 429 ? parseRetryAfter(res.headers.get('retry-after')) : undefined,
        });
      },
      deps.retry ?? WEBHOOK_RETRY,
      {
        signal: abort.signal,
        onRetry: ({ error, attempt }) =>
          deps.logger.warn(
            { webhook: config.name, attempt, err: describeError(error) },
            'webhook delivery failed; retrying',
          ),
      },
    );
  }

  return {
    send(alert) {
      for (const hook of hooks) {
        hook.queue = hook.queue.then(async () => {
          if (abort.signal.aborted) return;
          try {
            await deliver(hook.config, alert);
            hook.status.delivered++;
            deps.onDelivery?.(hook.config.name, true);
            deps.logger.info(
              { webhook: hook.config.name, alert: alert.id, state: alert.state },
              'alert sent',
            );
          } catch (err) {
            hook.status.failed++;
            hook.status.lastError = describeError(err);
            deps.onDelivery?.(hook.config.name, false);
            deps.logger.error(
              { webhook: hook.config.name, alert: alert.id, state: alert.state, err: describeError(err) },
              'alert not delivered; giving up',
            );
          }
        });
      }
    },
    status: () => hooks.map((h) => ({ ...h.status })),
    async close(graceMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(hooks.map((h) => h.queue)), grace]);
      clearTimeout(timer);
      abort.abort(new Error('the gateway is stopping'));
      await Promise.all(hooks.map((h) => h.queue));
    },
  };
}

/** The generic payload: the alert as GET /api/alerts shows it, plus `status` and a link. */
export function jsonPayload(alert: AlertItem, dashboardUrl?: string) {
  const { state, ...rest } = alert;
  return { status: state, ...rest, dashboardUrl: dashboardUrl ?? null };
}

/** Slack's incoming-webhook shape; `text` alone is what Mattermost, Rocket.Chat and Teams' Slack mode read. */
export function slackPayload(alert: AlertItem, dashboardUrl?: string) {
  const firing = alert.state === 'firing';
  const head = `${firing ? ':rotating_light: FIRING' : ':white_check_mark: RESOLVED'} ${alert.rule}${alert.subject ? ` (${alert.subject})` : ''}`;
  const text = `${head}: ${alert.summary}`;
  const threshold =
    alert.threshold !== null
      ? `above ${alert.threshold} for ${alert.forSeconds} s`
      : `for ${alert.forSeconds} s`;
  const when = firing
    ? `since ${alert.since}`
    : `fired ${alert.firedAt ?? alert.since}, resolved ${alert.resolvedAt ?? ''}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${alert.summary}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `rule \`${alert.rule}\` (${alert.kind}, ${threshold}) · ${when}${dashboardUrl ? ` · <${dashboardUrl}|dashboard>` : ''}`,
          },
        ],
      },
    ],
  };
}
