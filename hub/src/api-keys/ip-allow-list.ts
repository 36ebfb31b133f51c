import { BlockList, isIP } from 'node:net';

/** Entries a key's allow-list may hold: enough for an integration's egress ranges, few enough to read. */
export const MAX_ALLOWED_IPS = 32;

/**
 * The canonical form of an allow-list entry (an IPv4 or IPv6 address, or a CIDR of either), or null when it
 * is neither. Addresses become /32 or /128 so every entry reads the same way.
 */
export function normaliseIpEntry(entry: string): string | null {
  const [address = '', prefix, extra] = entry.trim().toLowerCase().split('/');
  if (extra !== undefined) return null;
  const family = isIP(address);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  if (prefix === undefined) return `${address}/${max}`;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return null;
  return `${address}/${Number(prefix)}`;
}

/** The address a client connected from, comparable with the entries: no IPv6 zone, IPv4-mapped as IPv4. */
export function normaliseClientIp(ip: string): string {
  const bare = ip.split('%')[0] ?? ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped?.[1] ?? bare;
}

/** Whether `clientIp` is inside one of the (normalised) entries; an unknown address is never allowed. */
export function ipAllowed(entries: readonly string[], clientIp: string): boolean {
  const ip = normaliseClientIp(clientIp);
  const family = isIP(ip);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix = ''] = entry.split('/');
    const entryFamily = isIP(address);
    if (entryFamily === 0) continue;
    list.addSubnet(address, Number(prefix), entryFamily === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
