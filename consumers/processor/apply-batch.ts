import type { Batch, IHeaders, Message } from 'kafkajs';
import type { EnrichmentJob, Workspace } from '../../schemas/generated/types.ts';
import type { Decoded } from '../shared/avro-decoder.ts';
import { jobEntry, workspaceEntry } from './changelog.ts';
import { goldRecord } from './gold-record.ts';
import type { JoinState } from './join-state.ts';

export interface BatchOutput {
  gold: ReturnType<typeof goldRecord>[];
  changelog: Array<Message & { partition: number }>;
  dlq: Message[];
}

/**
 * Applies one decoded input batch to its partition's state (which it changes) and returns what the
 * batch's transaction writes: gold records, changelog entries of the state that changed, and dead
 * letters (undecodable messages, jobs that break a business rule) with their lineage.
 */
export function applyBatch(args: {
  batch: Batch;
  decoded: Array<Decoded<Workspace | EnrichmentJob>>;
  state: JoinState;
  isWorkspaceTopic: boolean;
  processedAt: number;
}): BatchOutput {
  const { batch, state, processedAt } = args;
  const p = batch.partition;
  const out: BatchOutput = { gold: [], changelog: [], dlq: [] };
  args.decoded.forEach((result, i) => {
    const m = batch.messages[i]!;
    const lineage: IHeaders = {
      ...m.headers,
      'tributary-dlq-source': `${batch.topic}/${p}/${m.offset}`,
    };
    if (!result.ok) {
      out.dlq.push({
        key: m.key,
        value: m.value,
        headers: { ...lineage, 'tributary-dlq-reason': `undecodable: ${result.reason}` },
      });
      return;
    }
    if (args.isWorkspaceTopic) {
      const outcome = state.applyWorkspace(result.value as Workspace);
      if (outcome.kind !== 'accepted') return;
      out.changelog.push(workspaceEntry(outcome.workspace, p));
      for (const job of outcome.jobs) out.gold.push(goldRecord(job, outcome.workspace, processedAt));
    } else {
      const job = result.value as EnrichmentJob;
      const outcome = state.applyJob(job);
      if (outcome.kind === 'rejected') {
        out.dlq.push({
          key: job.id,
          value: JSON.stringify(job),
          headers: { ...lineage, 'tributary-dlq-reason': outcome.reasons.join('; ') },
        });
      } else if (outcome.kind === 'accepted') {
        out.changelog.push(jobEntry(outcome.job, p));
        out.gold.push(goldRecord(outcome.job, outcome.workspace, processedAt));
      }
    }
  });
  return out;
}
