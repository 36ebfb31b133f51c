import type { MiddlewareHandler } from 'hono';
import { clientIp } from '../api/client-ip';
import type { HubEnv } from '../api/env';
import { requestHeader } from '../api/request-header';
import type { ApiKeyAuthenticator } from '../api-keys/authenticate';
import { looksLikeApiKey } from '../api-keys/secret';
import { HubError } from '../errors';
import type { Sessions } from './sessions';
import type { AccessTokens } from './tokens';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

/**
 * Requires `Authorization: Bearer <access token>` whose session is still current (not logged out, the user
 * not deleted, demoted or re-passworded), and puts the verified principal and session on the context. With
 * `apiKeys`, an API key (`X-Api-Key: crema_ak_…`, or the same as the bearer credential) is accepted instead:
 * its principal is limited to the key's permissions and merchant, and it has no session.
 */
export function authenticate(
  tokens: AccessTokens,
  sessions: Sessions,
  apiKeys?: ApiKeyAuthenticator,
): MiddlewareHandler<HubEnv> {
  return async function requireBearer(c, next) {
    const header = requestHeader(c, 'authorization');
    const bearer = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const keyHeader = requestHeader(c, 'x-api-key');
    if (apiKeys && (keyHeader !== undefined || (bearer !== undefined && looksLikeApiKey(bearer)))) {
      // Two different credentials would leave it unclear whose request this is.
      if (keyHeader !== undefined && bearer !== undefined && bearer !== keyHeader)
        throw new HubError('VALIDATION_FAILED', 'send one credential: Authorization or X-Api-Key, not both');
      c.set('principal', await apiKeys.authenticate(keyHeader ?? bearer ?? '', clientIp(c)));
      await next();
      return;
    }
    if (!bearer) throw new HubError('AUTH_REQUIRED');
    const session = await tokens.verifySession(bearer);
    await sessions.assertCurrent(session);
    c.set('principal', session.principal);
    c.set('session', session);
    await next();
  };
}
