import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AgentError } from '../../errors';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Service actions need the technician credential from the config, as `Authorization: Bearer <token>`.
 * Without a configured credential they are disabled: there is no default one.
 */
export function technicianOnly(credential: string | undefined): MiddlewareHandler {
  const expected = credential === undefined ? undefined : digest(credential);
  return async function requireTechnician(c, next) {
    if (!expected) {
      throw new AgentError('FORBIDDEN', 'service actions are disabled: no api.technicianToken is configured');
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AgentError('AUTH_REQUIRED', 'service actions need the technician credential');
    // Compared as fixed-length digests so neither length nor content leaks through timing.
    if (!timingSafeEqual(digest(match[1]), expected)) throw new AgentError('AUTH_TOKEN_INVALID');
    await next();
  };
}
