import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from '../api/env';
import type { Principal } from '../auth/principal';
import { HubError } from '../errors';
import { can, type Permission } from './permissions';

/** Whether the caller may use `permission`: its role grants it and, for an API key, the key does too. */
export function principalCan(principal: Principal, permission: Permission): boolean {
  if (!can(principal.role, permission)) return false;
  return principal.apiKey === undefined || principal.apiKey.permissions.includes(permission);
}

/** Route middleware: the authenticated caller's role (and API key) must grant `permission`, else 403 FORBIDDEN. */
export function requirePermission(permission: Permission): MiddlewareHandler<HubEnv> {
  return async function checkPermission(c, next) {
    const principal = c.get('principal');
    if (!principal) throw new HubError('AUTH_REQUIRED');
    if (!principalCan(principal, permission)) throw new HubError('FORBIDDEN', `requires ${permission}`);
    await next();
  };
}
