import type { Command } from 'commander';
import { interruptSignal, positiveInt } from '../../ops/cli-support.ts';
import { openOpsClients } from '../../ops/clients.ts';
import { type ReadableRecord, toJson, valueText } from '../../ops/decode.ts';
import { tailTopic } from '../../ops/tail.ts';
import { infraOptions } from '../../runtime/endpoints.ts';

export function registerTailCommand(program: Command): void {
  program
    .command('tail')
    .description(
      'print the records of a topic as they arrive (Avro decoded through the registry) until Ctrl-C',
    )
    .argument('<topic>', 'the topic, e.g. gold.enrichment-jobs')
    .option('--from-beginning', 'start with the oldest record instead of the next new one')
    .option('--max <n>', 'stop after n records', positiveInt)
    .option('--json', 'one JSON object per record (topic, partition, offset, timestamp, key, headers, value)')
    .action(async (topic: string, o: { fromBeginning?: boolean; max?: number; json?: boolean }) => {
      const clients = await openOpsClients(infraOptions(), 'tail');
      const interrupt = interruptSignal();
      try {
        await tailTopic(clients, {
          topic,
          fromBeginning: o.fromBeginning === true,
          max: o.max,
          signal: interrupt.signal,
          onRecord: (r) => console.log(o.json ? toJson(r) : line(r)),
        });
      } finally {
        interrupt.dispose();
        await clients.close();
      }
    });
}

function line(r: ReadableRecord): string {
  return `${r.timestamp} ${r.partition}/${r.offset} key=${r.key ?? '(null)'} ${valueText(r.value)}`;
}
