import { describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.ts';

describe('operator commands: argument errors exit 2 before any connection', () => {
  it.each([
    [['replay', '--to', 'earliest'], /required option '--group <group>'/],
    [['replay', '--group', 'g', '--to', 'nope'], /is not earliest, latest/],
    [['replay', '--group', 'g', '--to', 'earliest', '--wait-timeout', '0'], /at least 1/],
    [['tail'], /missing required argument 'topic'/],
    [['tail', 't', '--max', 'many'], /whole number/],
    [['dlq', 'show'], /missing required argument 'topic'/],
    [['dlq', 'purge', 'x'], /unknown command 'purge'/],
    [['rebuild-gold', '--timeout', '-5'], /whole number|unknown option/],
    [['reset', '--everything'], /unknown option '--everything'/],
  ])('tributary %j', async (args, message) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'tributary', ...args])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(message);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });

  it('prints help for every command with exit code 0', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const cmd of [
        ['status'],
        ['tail'],
        ['replay'],
        ['rebuild-gold'],
        ['dlq'],
        ['dlq', 'redrive'],
        ['reset'],
      ]) {
        expect(await main(['node', 'tributary', ...cmd, '--help'])).toBe(0);
      }
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(/--stop-members/);
    } finally {
      out.mockRestore();
    }
  });
});
