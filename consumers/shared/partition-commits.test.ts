import { describe, expect, it } from 'vitest';
import { createPartitionCommits } from './partition-commits.ts';

describe('partition commits', () => {
  it('runs the commits of a partition in the order asked, one after the other', async () => {
    const commits = createPartitionCommits();
    const done: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const first = commits.commit(0, '5', async () => {
      await firstHeld;
      done.push('5');
    });
    const second = commits.commit(0, '9', async () => {
      done.push('9');
    });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(done).toEqual([]); // the second waits for the first
    releaseFirst();
    await Promise.all([first, second]);
    expect(done).toEqual(['5', '9']);
  });

  it('never commits a partition backwards or twice at the same offset', async () => {
    const commits = createPartitionCommits();
    const done: string[] = [];
    const at = (o: string) => commits.commit(0, o, async () => void done.push(o));
    await at('10');
    await at('7');
    await at('10');
    await at('12');
    expect(done).toEqual(['10', '12']);
  });

  it('keeps partitions apart, and starts afresh after a reset', async () => {
    const commits = createPartitionCommits();
    const done: string[] = [];
    const at = (p: number, o: string) => commits.commit(p, o, async () => void done.push(`${p}@${o}`));
    await at(0, '10');
    await at(1, '3');
    commits.reset();
    await at(0, '4');
    expect(done).toEqual(['0@10', '1@3', '0@4']);
  });

  it('commits an offset again after the commit of it failed (a retried batch)', async () => {
    const commits = createPartitionCommits();
    await expect(
      commits.commit(0, '8', async () => {
        throw new Error('request timed out');
      }),
    ).rejects.toThrow('request timed out');
    let ran = false;
    await commits.commit(0, '8', async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it('fails the caller of a failed commit and still runs the next one', async () => {
    const commits = createPartitionCommits();
    const failed = commits.commit(0, '1', async () => {
      throw new Error('rebalance in progress');
    });
    await expect(failed).rejects.toThrow('rebalance in progress');
    let ran = false;
    await commits.commit(0, '2', async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
