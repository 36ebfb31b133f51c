import type { Context } from 'hono';
import type { AuditEntry } from '../audit/log';
import { clientIp } from './client-ip';
import type { HubEnv } from './env';

/** The who and from-where of an audit entry, taken from the request. */
export function auditActor(c: Context<HubEnv>): Pick<AuditEntry, 'actor' | 'ip'> {
  return { actor: c.get('principal'), ip: clientIp(c) };
}
