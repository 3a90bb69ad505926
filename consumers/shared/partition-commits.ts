/**
 * Commits of one consumer's partitions, in order and never backwards.
 *
 * Two paths commit a partition's offsets: the consume loop after each chunk it wrote, and the
 * batches kafkajs does not hand to the loop because every record in them was filtered out (the
 * records of an aborted transaction, transaction markers). kafkajs resolves such a batch's offset
 * but, with auto-commit off, never commits it: a group whose topic ends in an aborted transaction
 * would stay behind its end (lag > 0) until the next real record. The second path commits those
 * too; this keeps both paths' commits of a partition in the order they were asked for, and drops a
 * commit that is not past the last one asked for, so a late one can never move the group back.
 */
export interface PartitionCommits {
  /**
   * Runs `commit` once the partition's earlier commits are done, unless `offset` (the next offset
   * to read) is not past the partition's last successful commit; a failed commit does not count.
   */
  commit(partition: number, offset: string, commit: () => Promise<void>): Promise<void>;
  /** After a rebalance: another member may have committed meanwhile, so nothing is known. */
  reset(): void;
}

export function createPartitionCommits(): PartitionCommits {
  const committed = new Map<number, bigint>();
  const chains = new Map<number, Promise<void>>();
  return {
    commit(partition, offset, commit) {
      const at = BigInt(offset);
      // an earlier commit that failed has failed its own caller; this one runs after it regardless
      const run = (chains.get(partition) ?? Promise.resolve())
        .catch(() => undefined)
        .then(async () => {
          const done = committed.get(partition);
          if (done !== undefined && at <= done) return;
          await commit();
          committed.set(partition, at);
        });
      chains.set(partition, run);
      return run;
    },
    reset() {
      committed.clear();
    },
  };
}
