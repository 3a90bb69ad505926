import type { Batch, KafkaMessage, Message } from 'kafkajs';
import { DEAD_LETTER_STAGES, type DeadLetterStage, deadLetter } from '../../contracts/dead-letter.ts';
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

/** One input batch, decoded with the reader schema of its topic (one entry per message, in order). */
export type DecodedBatch =
  | { kind: 'workspaces'; decoded: ReadonlyArray<Decoded<Workspace>> }
  | { kind: 'jobs'; decoded: ReadonlyArray<Decoded<EnrichmentJob>> };

/**
 * Applies one decoded input batch to its partition's state (which it changes) and returns what the
 * batch's transaction writes: gold records, changelog entries of the state that changed, and dead
 * letters (undecodable messages, jobs that break a business rule): the input message unchanged,
 * its Avro bytes included, with the headers of contracts/dead-letter.ts.
 */
export function applyBatch(args: {
  batch: Batch;
  input: DecodedBatch;
  state: JoinState;
  processedAt: number;
  /** the processor's group: its dead letters name it as their writer */
  writer: string;
}): BatchOutput {
  const { batch, input, state, processedAt } = args;
  const p = batch.partition;
  const out: BatchOutput = { gold: [], changelog: [], dlq: [] };
  const refuse = (m: KafkaMessage, reason: string, stage: DeadLetterStage): void => {
    const from = { topic: batch.topic, partition: p, offset: m.offset };
    out.dlq.push(deadLetter({ message: m, from, reason, stage, writer: args.writer }));
  };
  const undecodable = (m: KafkaMessage, reason: string): void =>
    refuse(m, `undecodable: ${reason}`, DEAD_LETTER_STAGES.undecodable);

  if (input.kind === 'workspaces') {
    for (const [i, result] of input.decoded.entries()) {
      const m = batch.messages[i]!;
      if (!result.ok) {
        undecodable(m, result.reason);
        continue;
      }
      const outcome = state.applyWorkspace(result.value);
      if (outcome.kind !== 'accepted') continue;
      out.changelog.push(workspaceEntry(outcome.workspace, p));
      for (const job of outcome.jobs) out.gold.push(goldRecord(job, outcome.workspace, processedAt));
    }
  } else {
    for (const [i, result] of input.decoded.entries()) {
      const m = batch.messages[i]!;
      if (!result.ok) {
        undecodable(m, result.reason);
        continue;
      }
      const outcome = state.applyJob(result.value);
      if (outcome.kind === 'rejected') {
        refuse(m, outcome.reasons.join('; '), DEAD_LETTER_STAGES.refused);
      } else if (outcome.kind === 'accepted') {
        out.changelog.push(jobEntry(outcome.job, p));
        out.gold.push(goldRecord(outcome.job, outcome.workspace, processedAt));
      }
    }
  }
  return out;
}
