import { describe, expect, it } from 'vitest';
import { assignTasks } from './task-assigner.ts';

describe('assignTasks', () => {
  const topics = new Map([
    ['ws', [0, 1, 2]],
    ['jobs', [0, 1, 2]],
  ]);

  it('gives each partition number of every topic to one member, round-robin over sorted members', () => {
    const out = assignTasks(['m-b', 'm-a'], topics);
    expect(out.get('m-a')).toEqual({ ws: [0, 2], jobs: [0, 2] });
    expect(out.get('m-b')).toEqual({ ws: [1], jobs: [1] });
  });

  it('gives one member everything, and a member beyond the task count nothing', () => {
    expect(assignTasks(['m'], topics).get('m')).toEqual({ ws: [0, 1, 2], jobs: [0, 1, 2] });
    const four = assignTasks(['a', 'b', 'c', 'd'], topics);
    expect(four.get('d')).toEqual({});
    const owners = new Map<number, string>();
    for (const [member, assignment] of four)
      for (const partitions of Object.values(assignment))
        for (const p of partitions) {
          expect(owners.get(p) ?? member).toBe(member);
          owners.set(p, member);
        }
    expect(owners.size).toBe(3);
  });
});
