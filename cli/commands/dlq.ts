import Table from 'cli-table3';
import type { Command } from 'commander';
import { HEADERS } from '../../contracts/headers.ts';
import { positiveInt } from '../../ops/cli-support.ts';
import { type OpsClients, openOpsClients } from '../../ops/clients.ts';
import { valueText } from '../../ops/decode.ts';
import { existingDlqTopics, showDlq, summarizeDlq } from '../../ops/dlq.ts';
import { opsOptions } from '../../ops/options.ts';
import { redriveDlq } from '../../ops/redrive.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

export function registerDlqCommand(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('inspect dead-letter topics and redrive their records after a fix');

  dlq
    .command('list')
    .description('every dead-letter topic with its record count and most common reasons')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const ops = opsOptions(process.env);
      await withClients('dlq-list', async (c) => {
        const topics = await existingDlqTopics(c.admin, ops.topics.dlqs);
        const summaries = await Promise.all(topics.map((t) => summarizeDlq(c, t, { top: 3 })));
        if (o.json) {
          console.log(JSON.stringify(summaries, null, 2));
          return;
        }
        const table = new Table({ head: ['dead-letter topic', 'records', 'most common reasons'] });
        for (const s of summaries) {
          table.push([
            s.topic,
            s.records,
            s.reasons.map((r) => `${r.count}× ${r.example.slice(0, 80)}`).join('\n') || '-',
          ]);
        }
        console.log(table.toString());
      });
    });

  dlq
    .command('show')
    .description('the latest records of a dead-letter topic with why and where from')
    .argument('<topic>', 'the dead-letter topic, e.g. dlq.raw.workspaces')
    .option('--limit <n>', 'how many records', positiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (topic: string, o: { limit: number; json?: boolean }) => {
      await withClients('dlq-show', async (c) => {
        await assertTopic(c, topic);
        const records = await showDlq(c, topic, { limit: o.limit });
        if (o.json) {
          console.log(JSON.stringify(records, null, 2));
          return;
        }
        for (const r of records) {
          console.log(`${r.partition}/${r.offset} ${r.timestamp} key=${r.key ?? '(null)'}`);
          console.log(`  reason: ${r.reason ?? '(none)'}`);
          console.log(
            `  source: ${r.source ?? r.headers[HEADERS.source] ?? '(unknown)'}${r.group ? ` (by ${r.group})` : ''}${r.stage ? `, stage ${r.stage}` : ''}`,
          );
          console.log(`  value:  ${valueText(r.value).slice(0, 500)}`);
        }
        if (records.length === 0) console.log(`${topic} is empty`);
      });
    });

  dlq
    .command('redrive')
    .description(
      're-inject the dead letters into their source topic, exactly once (run again after each fix)',
    )
    .argument('<topic>', 'the dead-letter topic, e.g. dlq.raw.workspaces')
    .option('--timeout <seconds>', 'how long the redrive may take', positiveInt, 600)
    .option('--json', 'print JSON')
    .action(async (topic: string, o: { timeout: number; json?: boolean }) => {
      const ops = opsOptions(process.env);
      await withClients('dlq-redrive', async (c) => {
        const report = await redriveDlq(c, {
          dlqTopic: topic,
          rawTopics: { workspaces: ops.topics.rawWorkspaces, 'enrichment-jobs': ops.topics.rawJobs },
          timeoutMs: o.timeout * 1000,
        });
        if (o.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(
          `${topic}: ${report.read} record(s) read, ${report.reinjected} re-injected` +
            Object.entries(report.byTopic)
              .map(([t, n]) => `, ${n} into ${t}`)
              .join(''),
        );
        for (const l of report.left) {
          console.log(
            `  left ${l.partition}/${l.offset}${l.topic ? ` (for ${l.topic})` : ''}: ${l.reasons.join('; ')}`,
          );
        }
        if (report.read === 0) console.log(`nothing new since the last redrive (group ${report.group})`);
      });
    });
}

async function withClients(command: string, run: (c: OpsClients) => Promise<void>): Promise<void> {
  const clients = await openOpsClients(infraOptions(), command);
  try {
    await run(clients);
  } finally {
    await clients.close();
  }
}

async function assertTopic(c: OpsClients, topic: string): Promise<void> {
  if (!(await c.admin.listTopics()).includes(topic)) {
    throw new Error(`topic ${topic} does not exist (tributary dlq list shows the dead-letter topics)`);
  }
}
