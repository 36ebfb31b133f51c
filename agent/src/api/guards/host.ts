import type { MiddlewareHandler } from 'hono';
import { AgentError } from '../../errors';

/** Names that always reach this board only. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** True for names and addresses that never leave the board (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = normalizeHost(host);
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The host name of a `Host` header value: no port, no IPv6 brackets, lowercase, no trailing dot. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']') > 0 ? value.indexOf(']') : undefined);
  const colon = value.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address, not host:port.
  const name = colon >= 0 && value.indexOf(':', colon + 1) < 0 ? value.slice(0, colon) : value;
  return normalizeHost(name);
}

function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/**
 * Refuses requests whose `Host` names anything but this board (DNS rebinding: a page on `evil.example` whose
 * name later resolves to 127.0.0.1 still sends `Host: evil.example`). Loopback names are always allowed.
 */
export function hostAllowList(allowed: readonly string[]): MiddlewareHandler {
  const names = new Set([...LOOPBACK_HOSTS, ...allowed.map(normalizeHost)]);
  return async function checkHost(c, next) {
    const header = c.req.header('host') ?? new URL(c.req.url).host;
    const name = hostName(header);
    if (!names.has(name))
      throw new AgentError('HOST_NOT_ALLOWED', `host ${name.slice(0, 64)} is not allowed`);
    await next();
  };
}
