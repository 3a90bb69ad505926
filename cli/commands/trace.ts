import Table from 'cli-table3';
import type { Command } from 'commander';
import { ConfigError } from '../../common/errors.ts';
import { lineageOptions } from '../../lineage/options.ts';
import { traceJob } from '../../lineage/trace.ts';
import type { JobLineage, VersionTrace } from '../../lineage/types.ts';
import { openOpsClients } from '../../ops/clients.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description(
      'the lineage of a job: each version of it and of its workspace from the source request to raw, bronze, gold and the stores, with the time between hops and its dead letters',
    )
    .argument('<job-id>', 'the job id (a UUID)')
    .option('--json', 'print JSON')
    .action(async (jobId: string, o: { json?: boolean }) => {
      if (!UUID.test(jobId))
        throw new ConfigError(
          '<job-id>',
          `${JSON.stringify(jobId)} is not a UUID`,
          'pass a job id, e.g. from `tributary tail gold.enrichment-jobs`',
        );
      const options = lineageOptions(process.env);
      const clients = await openOpsClients(infraOptions(), 'trace');
      try {
        const lineage = await traceJob(
          {
            kafka: clients.kafka,
            admin: clients.admin,
            registry: clients.registry,
            db: clients.pool(),
            mongo: async () =>
              (await clients.mongo())
                .db(options.mongo.database)
                .collection<{ _id: string }>(options.mongo.collection),
          },
          options,
          jobId.toLowerCase(),
        );
        if (!lineage) {
          console.error(`tributary: job ${jobId} is in no bronze table, gold table or gold collection`);
          process.exitCode = 1;
          return;
        }
        console.log(o.json ? JSON.stringify(lineage, null, 2) : renderLineage(lineage));
        if (lineage.problems.length > 0) process.exitCode = 1;
      } finally {
        await clients.close();
      }
    });
}

const clock = (at: string | null) => (at === null ? '-' : at.replace('T', ' ').replace('Z', ''));
const after = (ms: number | null) => (ms === null ? '' : `+${ms.toLocaleString('en-US')} ms`);

function versionTable(v: VersionTrace): string {
  const table = new Table({ head: ['hop', 'where', 'at (UTC)', 'after'], style: { compact: true } });
  for (const h of v.hops)
    table.push([h.hop, h.where, clock(h.at), h.after ? `${after(h.afterMs)} (${h.after})` : '']);
  return table.toString();
}

export function renderLineage(l: JobLineage): string {
  const out = [
    `job ${l.jobId}  workspace ${l.workspaceId ?? '(unknown)'}`,
    `${l.jobVersions.length} job versions, ${l.workspaceVersions.length} workspace versions, ` +
      `${l.jobVersions.concat(l.workspaceVersions).reduce((n, v) => n + v.gold.length, 0) + l.otherGold.length} gold records, ` +
      `${l.deadLetters.length} dead letters`,
  ];
  const stored = (name: string, r: JobLineage['stores']['postgres']) =>
    r
      ? `${name}: gold ${r.partition}@${r.offset} (job ${r.jobUpdatedAt}, status ${r.status}), written ${clock(r.writtenAt)}`
      : `${name}: no row`;
  out.push(stored('Postgres', l.stores.postgres), stored('MongoDB', l.stores.mongo), '');
  const versions = [...l.jobVersions, ...l.workspaceVersions].sort(
    (a, b) => Date.parse(a.raw.at ?? a.updatedAt) - Date.parse(b.raw.at ?? b.updatedAt),
  );
  for (const v of versions) {
    out.push(`${v.entity} version ${v.updatedAt} (${v.state})`, versionTable(v), '');
  }
  for (const g of l.otherGold) {
    out.push(
      `gold ${g.topic}/${g.partition}@${g.offset} at ${clock(g.at)}: no bronze version explains it (job ${g.jobUpdatedAt})`,
    );
  }
  if (l.deadLetters.length > 0) {
    const dlq = new Table({
      head: ['dead letter', 'at (UTC)', 'of', 'reason', 'from'],
      style: { compact: true },
    });
    for (const d of l.deadLetters) {
      dlq.push([
        `${d.topic}/${d.partition}@${d.offset}`,
        clock(d.at),
        d.entity,
        (d.reason ?? '-').slice(0, 80),
        d.source ?? `request ${d.requestId ?? '-'}`,
      ]);
    }
    out.push('dead letters', dlq.toString());
  }
  const partial = l.scans.filter((s) => !s.complete);
  for (const s of partial) {
    out.push(
      `note: ${s.topic}/${s.partition} read ${s.scanned} records from ${s.from} and stopped at ${s.to} (the bound); later records were not searched`,
    );
  }
  for (const p of l.problems) out.push(`problem: ${p}`);
  return out.join('\n');
}
