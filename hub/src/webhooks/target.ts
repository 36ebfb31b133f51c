import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HubError } from '../errors';

/** Addresses a webhook may not reach unless the operator allows private targets: the hub's own network. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** A URL a subscription may name: http(s), no credentials in it, at most 2,000 characters. */
export function checkWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HubError('VALIDATION_FAILED', 'the webhook URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new HubError('VALIDATION_FAILED', 'a webhook URL is http or https');
  if (url.username || url.password)
    throw new HubError('VALIDATION_FAILED', 'no credentials in a webhook URL');
  if (raw.length > 2000) throw new HubError('VALIDATION_FAILED', 'the webhook URL is too long');
  return url;
}

/**
 * Refuses a target that resolves into a private, loopback or link-local network (the hub's own metrics, a
 * cloud metadata service), checked again at every delivery since DNS can change after the subscription.
 */
export async function assertPublicTarget(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  for (const a of addresses) {
    const family = a.family === 6 ? 'ipv6' : 'ipv4';
    const mapped =
      family === 'ipv6' && a.address.toLowerCase().startsWith('::ffff:') ? a.address.slice(7) : null;
    if (PRIVATE.check(mapped ?? a.address, mapped ? 'ipv4' : family))
      throw new HubError('WEBHOOK_TARGET_FORBIDDEN', `webhook target ${host} is on a private network`);
  }
}
