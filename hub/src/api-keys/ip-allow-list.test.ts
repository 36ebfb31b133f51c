import { describe, expect, it } from 'vitest';
import { ipAllowed, normaliseClientIp, normaliseIpEntry } from './ip-allow-list';

describe('API key IP allow-list', () => {
  it('accepts addresses and CIDRs of both families, in one canonical form', () => {
    expect(normaliseIpEntry(' 203.0.113.7 ')).toBe('203.0.113.7/32');
    expect(normaliseIpEntry('198.51.100.0/24')).toBe('198.51.100.0/24');
    expect(normaliseIpEntry('2001:DB8::/32')).toBe('2001:db8::/32');
    expect(normaliseIpEntry('::1')).toBe('::1/128');
    for (const bad of [
      '',
      'localhost',
      '10.0.0.1/33',
      '2001:db8::/129',
      '10.0.0.1/8/1',
      '10.0.0.256',
      '1.2.3.4/x',
    ])
      expect(normaliseIpEntry(bad), bad).toBeNull();
  });

  it('matches a client inside an entry and nothing else', () => {
    const list = ['198.51.100.0/24', '2001:db8::/32', '203.0.113.7/32'];
    expect(ipAllowed(list, '198.51.100.250')).toBe(true);
    expect(ipAllowed(list, '198.51.101.1')).toBe(false);
    expect(ipAllowed(list, '203.0.113.7')).toBe(true);
    expect(ipAllowed(list, '203.0.113.8')).toBe(false);
    expect(ipAllowed(list, '2001:db8:ffff::1')).toBe(true);
    expect(ipAllowed(list, '2001:db9::1')).toBe(false);
    expect(ipAllowed(list, 'unknown')).toBe(false);
    expect(ipAllowed([], '198.51.100.1')).toBe(false);
  });

  it('compares an IPv4-mapped IPv6 peer (a dual-stack socket) as IPv4', () => {
    expect(normaliseClientIp('::ffff:198.51.100.9')).toBe('198.51.100.9');
    expect(normaliseClientIp('fe80::1%eth0')).toBe('fe80::1');
    expect(ipAllowed(['198.51.100.0/24'], '::ffff:198.51.100.9')).toBe(true);
    expect(ipAllowed(['::1/128'], '::ffff:127.0.0.1')).toBe(false);
  });
});
