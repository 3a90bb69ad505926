import { describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

describe('tributary CLI', () => {
  it('exits 2 with a message on argument errors and 0 on --help', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'tributary', 'infra', 'nope'])).toBe(2);
      expect(await main(['node', 'tributary', 'start', '--role', 'nonsense'])).toBe(2);
      expect(await main(['node', 'tributary', '--help'])).toBe(0);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/unknown command 'nope'|error/);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });
});
