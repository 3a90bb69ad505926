import { describe, expect, it } from 'vitest';
import { createSerializer } from './committer.ts';

describe('createSerializer', () => {
  it('runs one function at a time, in call order, and goes on after a failure', async () => {
    const serialize = createSerializer();
    const events: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) =>
      serialize(async () => {
        running++;
        expect(running).toBe(1);
        events.push(`start ${name}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
