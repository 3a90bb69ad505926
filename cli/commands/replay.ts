import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { argument, interruptSignal, note, positiveInt } from '../../ops/cli-support.ts';
import { openOpsClients } from '../../ops/clients.ts';
import { describeMembers } from '../../ops/lag.ts';
import { opsOptions } from '../../ops/options.ts';
import {
  applyReplay,
  assertNoMembers,
  describeMemberList,
  planReplay,
  type ReplayPlan,
  waitForMembersToLeave,
} from '../../ops/replay.ts';
import { followReplay, type ReplayProgress } from '../../ops/replay-progress.ts';
import { describeTarget, parseReplayTarget, type ReplayTarget } from '../../ops/replay-target.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

interface ReplayFlags {
  group: string;
  to: ReplayTarget;
  topic?: string[];
  stopMembers?: boolean;
  membersTimeout: number;
  wait: boolean;
  waitTimeout: number;
  json?: boolean;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('move a consumer group back to reprocess records, then follow it until it has caught up')
    .requiredOption('--group <group>', 'the consumer group, e.g. tributary.bronze.workspaces')
    .requiredOption(
      '--to <target>',
      'earliest, latest, an ISO timestamp (2026-01-31T12:00:00Z) or topic:partition:offset,...',
      argument(parseReplayTarget),
    )
    .option('--topic <topic...>', 'the topics to move (default: every topic the group has offsets on)')
    .option('--stop-members', 'wait for the group’s members to leave (naming them) instead of refusing')
    .option('--members-timeout <seconds>', 'how long --stop-members waits', positiveInt, 600)
    .option('--no-wait', 'do not follow the group after moving its offsets')
    .option('--wait-timeout <seconds>', 'how long to follow the group', positiveInt, 24 * 3600)
    .option('--json', 'print the plan and the outcome as JSON')
    .action(async (o: ReplayFlags) => {
      const ops = opsOptions(process.env);
      const clients = await openOpsClients(infraOptions(), 'replay');
      const interrupt = interruptSignal();
      try {
        const { admin } = clients;
        if (o.stopMembers) {
          const { members } = await describeMembers(admin, o.group);
          if (members.length > 0) {
            await waitForMembersToLeave(admin, o.group, {
              timeoutMs: o.membersTimeout * 1000,
              signal: interrupt.signal,
              onMembers: (m) =>
                note(
                  `waiting for ${o.group} to have no members; stop these consumers: ${describeMemberList(m)}`,
                ),
            });
          }
        } else {
          await assertNoMembers(admin, o.group);
        }
        const plan = await planReplay(admin, o.group, o.to, o.topic);
        await applyReplay(admin, plan);
        if (!o.json) {
          console.log(`moved ${o.group} to ${describeTarget(o.to)}:`);
          console.log(planTable(plan));
        }
        let outcome: ReplayProgress | undefined;
        let interrupted = false;
        if (o.wait && plan.toReprocess > 0) {
          const bar = createBar(o.group, plan.toReprocess);
          try {
            outcome = await followReplay(clients, plan, {
              metricsTopic: ops.topics.metrics,
              timeoutMs: o.waitTimeout * 1000,
              signal: interrupt.signal,
              onProgress: bar.update,
            });
          } catch (err) {
            if (!interrupt.signal.aborted) throw err;
            interrupted = true;
          } finally {
            bar.stop();
          }
        }
        const summary = {
          group: plan.group,
          to: describeTarget(o.to),
          partitionsMoved: plan.moves.length,
          messagesToReprocess: plan.toReprocess,
          moves: plan.moves,
          followed: outcome !== undefined,
          remaining: outcome?.remaining ?? null,
        };
        if (o.json) console.log(JSON.stringify(summary, null, 2));
        else if (interrupted) note('stopped following; the group keeps reprocessing on its own');
        else
          console.log(
            `${plan.moves.length} partition(s) moved, ${plan.toReprocess} message(s) to reprocess` +
              (outcome ? ': all reprocessed' : ''),
          );
      } finally {
        interrupt.dispose();
        await clients.close();
      }
    });
}

function planTable(plan: ReplayPlan): string {
  const table = new Table({ head: ['topic', 'partition', 'from', 'to', 'end', 'to reprocess'] });
  for (const m of plan.moves) {
    table.push([
      m.topic,
      m.partition,
      m.from ?? '(none)',
      m.to,
      m.high,
      String(BigInt(m.high) - BigInt(m.to)),
    ]);
  }
  return table.toString();
}

/**
 * The progress bar appears once the group runs again; until then one line says what it waits for.
 * Without a terminal (CI, logs) cli-progress draws nothing, so a line per 10% is written instead.
 */
function createBar(group: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: `${group} [{bar}] {percentage}% | {value}/{total} reprocessed | ETA {eta_formatted}` },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let waitingShown = false;
  let lastDecile = -1;
  return {
    update(p: ReplayProgress) {
      const done = total - p.remaining;
      if (p.members === 0 && !started && p.remaining > 0) {
        if (!waitingShown) note(`offsets moved; waiting for ${group} to run again (start its consumers)`);
        waitingShown = true;
        return;
      }
      if (!started) {
        bar.start(total, done);
        started = true;
      }
      bar.update(done);
      const decile = Math.floor((done / Math.max(1, total)) * 10);
      if (!process.stderr.isTTY && decile !== lastDecile) {
        note(`${group}: ${done}/${total} reprocessed`);
        lastDecile = decile;
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
