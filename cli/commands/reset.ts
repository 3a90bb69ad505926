import confirm from '@inquirer/confirm';
import type { Command } from 'commander';
import { TributaryError } from '../../common/errors.ts';
import { note } from '../../ops/cli-support.ts';
import { openOpsClients } from '../../ops/clients.ts';
import { opsOptions } from '../../ops/options.ts';
import {
  applyReset,
  assertMockSourceStopped,
  assertNoActiveGroups,
  mockSourceWorldToReset,
  planReset,
  type ResetPlan,
  resetMockSourceWorld,
} from '../../ops/reset.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

export function registerResetCommand(program: Command): void {
  program
    .command('reset')
    .description(
      'empty bronze, gold and the consumer groups so the pipeline rebuilds them from Kafka (refuses while any pipeline role runs)',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option(
      '--topics',
      "also delete and re-create the pipeline topics and empty the mock source's world (everything starts again from the source)",
    )
    .option('--json', 'print what was done as JSON')
    .action(async (o: { yes?: boolean; topics?: boolean; json?: boolean }) => {
      const infra = infraOptions();
      const ops = opsOptions(process.env);
      const clients = await openOpsClients(infra, 'reset');
      try {
        const plan = await planReset(clients.admin, ops, { topics: o.topics === true });
        await assertNoActiveGroups(clients.admin, plan.groups);
        const world = mockSourceWorldToReset(process.env, { topics: o.topics === true });
        await assertMockSourceStopped(clients.pool(), world);
        if (!o.yes) {
          if (!process.stdin.isTTY)
            throw new TributaryError('reset needs confirmation', { fix: 'pass --yes' });
          note(describePlan(plan));
          if (world) note(`  empty the mock source's world (Postgres schema ${world}): it begins a new one`);
          if (!(await confirm({ message: 'Reset the pipeline as listed above?', default: false }))) return;
        }
        const report = await applyReset(
          { admin: clients.admin, pool: clients.pool(), mongo: await clients.mongo() },
          plan,
          { partitions: infra.topicPartitions },
        );
        // after the topics: should this fail, the pollers read the kept world again from its start
        const worldReset = await resetMockSourceWorld(clients.pool(), world);
        if (o.json) {
          console.log(JSON.stringify({ ...report, mockSourceWorld: worldReset ?? null }, null, 2));
          return;
        }
        console.log(`truncated ${report.truncated.join(', ')}`);
        console.log(
          `deleted ${report.documentsDeleted} document(s) from ${plan.mongo.database}.${plan.mongo.collection}`,
        );
        console.log(
          report.groupsDeleted.length > 0
            ? `deleted consumer groups ${report.groupsDeleted.join(', ')}`
            : 'no consumer group to delete',
        );
        if (report.topicsRecreated.length > 0)
          console.log(`re-created topics ${report.topicsRecreated.join(', ')}`);
        if (worldReset) {
          console.log(
            `emptied the mock source's world in schema ${worldReset.schema} (${worldReset.versionsDeleted} versions)`,
          );
        }
      } finally {
        await clients.close();
      }
    });
}

function describePlan(plan: ResetPlan): string {
  return [
    'reset will:',
    `  truncate ${plan.tables.join(', ')}`,
    `  delete every document of ${plan.mongo.database}.${plan.mongo.collection}`,
    `  delete the consumer groups ${plan.groups.join(', ') || '(none exist)'}`,
    ...(plan.topics.length > 0
      ? [`  delete and re-create the topics ${plan.topics.map((t) => t.name).join(', ')}`]
      : []),
  ].join('\n');
}
