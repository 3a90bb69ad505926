import { describe, expect, it } from 'vitest';
import { maskUrl } from './url.ts';

describe('maskUrl', () => {
  it.each([
    [
      'postgres://tributary:secret@127.0.0.1:15432/tributary',
      'postgres://tributary:***@127.0.0.1:15432/tributary',
    ],
    // a ':' in the password once left everything before the last ':' in clear
    ['postgres://app:pa:ss:word@db:5432/x', 'postgres://app:***@db:5432/x'],
    [
      'mongodb://u:p%40ss:w@h1:27017,h2:27017/db?replicaSet=rs',
      'mongodb://u:***@h1:27017,h2:27017/db?replicaSet=rs',
    ],
    ['mongodb+srv://u:raw@at:sign@cluster.example.test/db', 'mongodb+srv://u:***@cluster.example.test/db'],
    [
      'https://reg-user:reg:pass@registry.example.test/apis/ccompat/v7',
      'https://reg-user:***@registry.example.test/apis/ccompat/v7',
    ],
  ])('masks the password of %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it.each([
    'http://127.0.0.1:18081/apis/ccompat/v7',
    'mongodb://127.0.0.1:17017/tributary',
    'https://only-a-user@host.example.test/x',
    '127.0.0.1:19092,127.0.0.1:19093',
  ])('leaves %s as it is (no password in it)', (url) => {
    expect(maskUrl(url)).toBe(url);
  });
});
