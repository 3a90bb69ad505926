import confirm from '@inquirer/confirm';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { createLogger } from '../../common/logger.ts';
import { interruptSignal, note, positiveInt } from '../../ops/cli-support.ts';
import { openOpsClients } from '../../ops/clients.ts';
import { opsOptions } from '../../ops/options.ts';
import { identical, type StoreDiff } from '../../ops/rebuild/content-hash.ts';
import { type RebuildReport, rebuildGold } from '../../ops/rebuild-gold.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

interface RebuildFlags {
  yes?: boolean;
  json?: boolean;
  keepShadow?: boolean;
  timeout: number;
  rawWorkspacesTopic?: string;
  rawJobsTopic?: string;
  goldTopic?: string;
  goldTable?: string;
  mongoDatabase?: string;
  mongoCollection?: string;
}

export function registerRebuildGoldCommand(program: Command): void {
  program
    .command('rebuild-gold')
    .description(
      'reprocess the raw topics into a shadow gold, compare it with the current gold, and swap it in on confirmation',
    )
    .option('-y, --yes', 'swap without asking')
    .option('--json', 'print the report as JSON')
    .option(
      '--keep-shadow',
      'keep the shadow table and collection when not swapped (topics and groups are removed)',
    )
    .option('--timeout <seconds>', 'how long the shadow may take to catch up', positiveInt, 3600)
    .option('--raw-workspaces-topic <topic>', 'default: TRIBUTARY_RAW_WORKSPACES_TOPIC or raw.workspaces')
    .option('--raw-jobs-topic <topic>', 'default: TRIBUTARY_RAW_JOBS_TOPIC or raw.enrichment-jobs')
    .option('--gold-topic <topic>', 'default: TRIBUTARY_GOLD_TOPIC or gold.enrichment-jobs')
    .option('--gold-table <schema.table>', 'default: TRIBUTARY_GOLD_TABLE or gold.enrichment_jobs')
    .option('--mongo-database <name>', 'default: TRIBUTARY_GOLD_MONGO_DATABASE or tributary')
    .option('--mongo-collection <name>', 'default: TRIBUTARY_GOLD_MONGO_COLLECTION or enrichment_jobs')
    .action(async (o: RebuildFlags) => {
      const ops = opsOptions(process.env);
      const target = {
        rawTopics: {
          workspaces: o.rawWorkspacesTopic ?? ops.topics.rawWorkspaces,
          jobs: o.rawJobsTopic ?? ops.topics.rawJobs,
        },
        goldTopic: o.goldTopic ?? ops.topics.gold,
        table: o.goldTable ?? ops.gold.table,
        mongo: {
          database: o.mongoDatabase ?? ops.gold.mongo.database,
          collection: o.mongoCollection ?? ops.gold.mongo.collection,
        },
      };
      const clients = await openOpsClients(infraOptions(), 'rebuild-gold');
      const interrupt = interruptSignal();
      try {
        const report = await rebuildGold(
          {
            ...clients,
            pool: clients.pool(),
            mongo: await clients.mongo(),
            env: process.env,
            logger: createLogger('rebuild-gold', process.env.TRIBUTARY_LOG_LEVEL ?? 'warn'),
          },
          {
            target,
            timeoutMs: o.timeout * 1000,
            keepShadow: o.keepShadow,
            signal: interrupt.signal,
            onStep: note,
            confirm: async (diffs) => {
              if (!o.json) console.log(diffTable(diffs));
              if (o.yes) return true;
              if (!process.stdin.isTTY) {
                note('not swapped: pass --yes to swap without a terminal to ask');
                return false;
              }
              const same = diffs.every(identical);
              return confirm({
                message: same
                  ? 'The shadow equals the current gold. Swap anyway?'
                  : 'Swap the shadow in place of the current gold (Postgres, MongoDB, topic)?',
                default: false,
              });
            },
          },
        );
        console.log(o.json ? JSON.stringify(report, null, 2) : summary(report));
      } finally {
        interrupt.dispose();
        await clients.close();
      }
    });
}

function diffTable(diffs: StoreDiff[]): string {
  const t = new Table({
    head: ['store', 'current', 'shadow', 'only in current', 'only in shadow', 'differing', 'content'],
  });
  for (const d of diffs) {
    t.push([
      d.store,
      d.current.records,
      d.shadow.records,
      d.onlyCurrent,
      d.onlyShadow,
      d.differing,
      identical(d) ? `same (${d.current.hash.slice(0, 12)})` : 'DIFFERENT',
    ]);
  }
  const examples = diffs.flatMap((d) =>
    (['onlyCurrent', 'onlyShadow', 'differing'] as const)
      .filter((k) => d.examples[k].length > 0)
      .map((k) => `  ${d.store} ${k}: ${d.examples[k].join(', ')}`),
  );
  return [t.toString(), ...examples].join('\n');
}

function summary(r: RebuildReport): string {
  const lines = [
    r.swapped
      ? `swapped: ${r.shadow.table} and ${r.shadow.collection} replaced the current gold; ` +
        `${r.topicSwap?.produced ?? 0} record(s) and ${r.topicSwap?.tombstones ?? 0} tombstone(s) produced to the gold topic`
      : 'not swapped: the current gold is unchanged',
  ];
  if (r.shadowDeadLetters > 0) lines.push(`the shadow dead-lettered ${r.shadowDeadLetters} record(s)`);
  for (const p of r.cleanupProblems) lines.push(`clean-up: ${p}`);
  return lines.join('\n');
}
