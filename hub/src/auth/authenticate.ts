import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from '../api/env';
import { HubError } from '../errors';
import type { AccessTokens } from './tokens';

/** Requires `Authorization: Bearer <access token>` and puts the verified principal on the context. */
export function authenticate(tokens: AccessTokens): MiddlewareHandler<HubEnv> {
  return async function requireBearer(c, next) {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!match?.[1]) throw new HubError('AUTH_REQUIRED');
    c.set('principal', await tokens.verify(match[1]));
    await next();
  };
}
