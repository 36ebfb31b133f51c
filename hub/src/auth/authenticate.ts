import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from '../api/env';
import { HubError } from '../errors';
import type { Sessions } from './sessions';
import type { AccessTokens } from './tokens';

/**
 * Requires `Authorization: Bearer <access token>` whose session is still current (not logged out, the user
 * not deleted, demoted or re-passworded), and puts the verified principal and session on the context.
 */
export function authenticate(tokens: AccessTokens, sessions: Sessions): MiddlewareHandler<HubEnv> {
  return async function requireBearer(c, next) {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!match?.[1]) throw new HubError('AUTH_REQUIRED');
    const session = await tokens.verifySession(match[1]);
    await sessions.assertCurrent(session);
    c.set('principal', session.principal);
    c.set('session', session);
    await next();
  };
}
