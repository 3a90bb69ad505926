import Table from 'cli-table3';
import type { Command } from 'commander';
import { ConfigError, describeError, RemoteError } from '../../common/errors.ts';
import type { AlertItem, AlertsSnapshot } from '../../gateway/alerts/schemas.ts';
import { gatewayOptions } from '../../gateway/options.ts';

/**
 * `tributary alerts`: what the gateway's alert rules say now (GET /api/alerts): the alerts firing
 * and pending, the recent history, the rules and the webhooks' delivery counts. The gateway is the
 * one that evaluates them, so it must be running; its URL comes from the gateway's own settings
 * (TRIBUTARY_GATEWAY_HOST/PORT/TOKEN) unless --url is given. Exits with 1 while an alert fires.
 */
export function registerAlertsCommand(program: Command): void {
  program
    .command('alerts')
    .description('alerts firing and pending, their recent history, the rules and webhooks (from the gateway)')
    .option(
      '--url <url>',
      'the gateway, e.g. http://127.0.0.1:3000 (default: from TRIBUTARY_GATEWAY_HOST/PORT)',
    )
    .option('--history <n>', 'how many past alerts to show', '20')
    .option('--json', 'print JSON (the API answer)')
    .action(async (o: { url?: string; history: string; json?: boolean }) => {
      const options = gatewayOptions(process.env);
      const host = ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host;
      const base = (o.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`).replace(
        /\/$/,
        '',
      );
      const limit = Number(o.history);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new ConfigError('--history', `is ${JSON.stringify(o.history)}`, 'give a whole number, e.g. 20');
      }
      const snapshot = await fetchAlerts(base, options.token);
      console.log(o.json ? JSON.stringify(snapshot, null, 2) : render(snapshot, limit, Date.now()));
      if (snapshot.active.some((a) => a.state === 'firing')) process.exitCode = 1;
    });
}

async function fetchAlerts(base: string, token: string | undefined): Promise<AlertsSnapshot> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/alerts`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new RemoteError(`the gateway at ${base} did not answer: ${describeError(err)}`, undefined, {
      cause: err,
    });
  }
  if (!res.ok) {
    const hint = res.status === 401 ? ' (set TRIBUTARY_GATEWAY_TOKEN to the gateway token)' : '';
    throw new RemoteError(`the gateway at ${base} answered HTTP ${res.status}${hint}`, res.status);
  }
  return (await res.json()) as AlertsSnapshot;
}

export function render(s: AlertsSnapshot, historyLimit: number, now: number): string {
  const ago = (iso: string | null) => (iso ? `${duration(now - Date.parse(iso))} ago` : '-');
  const out: string[] = [];
  const firing = s.active.filter((a) => a.state === 'firing');
  out.push(
    firing.length > 0 ? `${firing.length} alert${firing.length === 1 ? '' : 's'} FIRING` : 'no alert firing',
  );
  if (s.active.length > 0) {
    const t = new Table({
      head: ['state', 'rule', 'subject', 'since', 'summary'],
      colWidths: [9, 18, 26, 12, 70],
      wordWrap: true,
    });
    for (const a of s.active) t.push([a.state, a.rule, a.subject || '-', ago(a.since), a.summary]);
    out.push(t.toString());
  }
  const history = s.history.slice(0, historyLimit);
  out.push(`history (last ${history.length} of ${s.history.length} kept since the gateway started)`);
  if (history.length > 0) {
    const t = new Table({
      head: ['rule', 'subject', 'fired', 'resolved', 'lasted', 'summary'],
      colWidths: [18, 26, 12, 12, 9, 55],
      wordWrap: true,
    });
    for (const a of history)
      t.push([a.rule, a.subject || '-', ago(a.firedAt), resolvedCell(a, ago), lasted(a, now), a.summary]);
    out.push(t.toString());
  } else {
    out.push('  none');
  }
  const rules = new Table({ head: ['rule', 'kind', 'condition'] });
  for (const r of s.rules) {
    const threshold = r.above !== null ? `above ${r.above} ${r.unit ?? ''}`.trim() : 'failing';
    rules.push([r.name, r.kind, `${threshold} for ${r.for} s`]);
  }
  out.push(`rules (${s.source})`, rules.toString());
  const hooks = new Table({ head: ['webhook', 'format', 'delivered', 'failed', 'last error'] });
  for (const w of s.webhooks) hooks.push([w.name, w.format, w.delivered, w.failed, w.lastError ?? '-']);
  out.push('webhooks', s.webhooks.length > 0 ? hooks.toString() : '  none configured');
  return out.join('\n');
}

function resolvedCell(a: AlertItem, ago: (iso: string | null) => string): string {
  return a.state === 'resolved' ? ago(a.resolvedAt) : 'FIRING';
}

function lasted(a: AlertItem, now: number): string {
  const end = a.resolvedAt ? Date.parse(a.resolvedAt) : now;
  return duration(end - Date.parse(a.since));
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
