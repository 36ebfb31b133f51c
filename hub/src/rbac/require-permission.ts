import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from '../api/env';
import { HubError } from '../errors';
import { can, type Permission } from './permissions';

/** Route middleware: the authenticated caller's role must grant `permission`, else 403 FORBIDDEN. */
export function requirePermission(permission: Permission): MiddlewareHandler<HubEnv> {
  return async function checkPermission(c, next) {
    const principal = c.get('principal');
    if (!principal) throw new HubError('AUTH_REQUIRED');
    if (!can(principal.role, permission)) throw new HubError('FORBIDDEN', `requires ${permission}`);
    await next();
  };
}
