import Table from 'cli-table3';
import type { Command } from 'commander';
import { instanceId } from '../../common/instance.ts';
import { createLogger } from '../../common/logger.ts';
import { latestWalks, walkLine } from '../../gateway/walks/query.ts';
import { status as infraStatus } from '../../infra/runner.ts';
import { type OpsClients, openOpsClients } from '../../ops/clients.ts';
import { opsOptions } from '../../ops/options.ts';
import { collectStatus, type StatusReport } from '../../ops/status.ts';
import { createClientFactory } from '../../runtime/clients.ts';
import { infraOptions } from '../../runtime/endpoints.ts';
import { readinessTable } from '../output.ts';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'servers, roles (running, stalled and why), consumer groups with their lag, dead letters, the last walk per poller, schemas',
    )
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const infra = infraOptions();
      const ops = opsOptions(process.env);
      const endpoints = await infraStatus(infra);
      let clients: Promise<OpsClients> | undefined;
      // The walks are read from Postgres without Kafka, so they show while Kafka is down.
      const db = createClientFactory({
        endpoints: infra,
        logger: createLogger('tributary-status', 'warn'),
        instance: instanceId(),
        name: 'ops-status',
      });
      let pool: ReturnType<typeof db.postgres> | undefined;
      try {
        const report = await collectStatus({
          infra,
          ops,
          endpoints,
          kafka: () => {
            clients ??= openOpsClients(infra, 'status');
            return clients;
          },
          walks: () => {
            pool ??= db.postgres({ max: 1 });
            return latestWalks(pool, [ops.topics.rawWorkspaces, ops.topics.rawJobs]);
          },
        });
        console.log(o.json ? JSON.stringify(report, null, 2) : render(report));
        const stalled = report.roles.some((r) => r.status === 'stalled');
        if (endpoints.some((e) => !e.healthy) || Object.keys(report.errors).length > 0 || stalled) {
          process.exitCode = 1;
        }
      } finally {
        if (clients) await (await clients).close();
        await db.closeAll();
      }
    });
}

function render(r: StatusReport): string {
  const out = ['servers', readinessTable(r.infra)];
  const roles = new Table({
    head: ['role', 'instances', 'status', 'why'],
    colWidths: [16, 11, 9, 90],
    wordWrap: true,
  });
  for (const role of r.roles) roles.push([role.role, role.instances, role.status, role.reason ?? '']);
  out.push(
    'roles (from their metrics snapshots of the last 2 minutes)',
    r.errors.roles
      ? `  unavailable: ${r.errors.roles}`
      : r.roles.length === 0
        ? '  none reported'
        : roles.toString(),
  );
  const groups = new Table({
    head: ['consumer group', 'state', 'members', 'lag (messages)', 'lag (seconds)'],
  });
  for (const g of r.groups) {
    groups.push([g.group, g.state, g.members.length, g.lagMessages, g.lagSeconds.toFixed(1)]);
  }
  out.push('consumer groups', r.errors.groups ? `  unavailable: ${r.errors.groups}` : groups.toString());
  const dlq = new Table({ head: ['dead-letter topic', 'records', 'most common reason'] });
  for (const d of r.deadLetters) {
    const top = d.reasons[0];
    dlq.push([d.topic, d.records, top ? `${top.count}× ${top.example.slice(0, 70)}` : '-']);
  }
  out.push('dead letters', r.errors.deadLetters ? `  unavailable: ${r.errors.deadLetters}` : dlq.toString());
  out.push('last walk per poller (reconciliation: gateway/walks/)', walksSection(r));
  const subjects = new Table({ head: ['schema subject', 'versions'] });
  for (const s of r.subjects) subjects.push([s.subject, s.versions.join(', ')]);
  out.push(
    'schema subjects',
    r.errors.subjects ? `  unavailable: ${r.errors.subjects}` : subjects.toString(),
  );
  return out.join('\n');
}

function walksSection(r: StatusReport): string {
  if (r.errors.walks) return `  unavailable: ${r.errors.walks}`;
  if (r.walks.length === 0) return '  none recorded yet (the gateway records walks that published something)';
  return r.walks
    .map((w) => {
      const flagged = w.unreconciledWalks > 0 ? ` — ${w.unreconciledWalks} walk(s) do not reconcile` : '';
      return `  ${w.api}: last walk ${new Date(w.endedAt).toISOString()}: ${walkLine(w)}${flagged}`;
    })
    .join('\n');
}
