import { describe, expect, it } from 'vitest';
import { basicPasswordMatches, bearerMatches } from '../common/ops-server.ts';
import { hostAllowed, hostPolicy } from './security.ts';

describe('the Host check against DNS rebinding', () => {
  const loopbackOnly = hostPolicy({ allowedHosts: [] });

  it.each(['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST', '[::1]:3000', '127.0.0.2'])(
    'serves %s',
    (host) => {
      expect(hostAllowed(host, loopbackOnly)).toBe(true);
    },
  );

  it.each(['attacker.example.test:3000', '10.0.0.5:3000', 'localhost.attacker.test', '127.0.0.1.nip.io', ''])(
    'refuses %s without a token',
    (host) => {
      expect(hostAllowed(host, loopbackOnly)).toBe(false);
    },
  );

  it('serves allowlisted names, any name with `*`, and any name once a token is set', () => {
    const listed = hostPolicy({ allowedHosts: ['Dash.Example.test'] });
    expect(hostAllowed('dash.example.test:3000', listed)).toBe(true);
    expect(hostAllowed('other.example.test', listed)).toBe(false);
    expect(hostAllowed('anything.test', hostPolicy({ allowedHosts: ['*'] }))).toBe(true);
    expect(hostAllowed('anything.test', hostPolicy({ token: 'x'.repeat(16), allowedHosts: [] }))).toBe(true);
  });
});

describe('the token checks', () => {
  const token = 'token-0123456789abcdef';
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('accepts the Bearer scheme in any case, and nothing else', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER'])
      expect(bearerMatches(`${scheme} ${token}`, token)).toBe(true);
    for (const header of [undefined, '', token, `Bearer ${token}x`, `Token ${token}`, basic(`u:${token}`)]) {
      expect(bearerMatches(header, token)).toBe(false);
    }
  });

  it('accepts Basic with the token as password, whatever the user', () => {
    expect(basicPasswordMatches(basic(`anyone:${token}`), token)).toBe(true);
    expect(basicPasswordMatches(basic(`:${token}`), token)).toBe(true);
    expect(basicPasswordMatches(basic(`${token}:`), token)).toBe(false);
    expect(basicPasswordMatches(basic(token), token)).toBe(false);
    expect(basicPasswordMatches(`Bearer ${token}`, token)).toBe(false);
  });
});
