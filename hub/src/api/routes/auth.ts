import { createRoute, z } from '@hono/zod-openapi';
import { PasswordSchema } from '../../auth/passwords';
import { findUserById, toUserView } from '../../auth/users';
import { HubError } from '../../errors';
import { PERMISSIONS, RolePermissions } from '../../rbac/permissions';
import { clientIp } from '../client-ip';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonBody, jsonContent } from '../schemas';
import { registerSessionRoutes } from './auth-session';
import { UserSchema } from './users';

const TokenPairSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresAt: z.number().int(),
    refreshToken: z.string(),
    refreshExpiresAt: z.number().int(),
  })
  .openapi('TokenPair');

const LoginSchema = z.object({
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(256),
});
const RefreshSchema = z.object({ refreshToken: z.string().min(1).max(200) });
const PasswordChangeSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: PasswordSchema,
});

/** The caller with its permissions, so a client (the console) shows only what the role may do. */
const MeSchema = UserSchema.extend({ permissions: z.array(z.enum(PERMISSIONS)) }).openapi('Me');

const tags = ['auth'];
const login = createRoute({
  method: 'post',
  path: '/api/v1/auth/login',
  tags,
  security: [],
  summary: 'Log in with email and password',
  request: { body: jsonBody(LoginSchema) },
  responses: { 200: jsonContent(TokenPairSchema, 'Tokens'), ...problemResponses(400, 401, 429) },
});
const refresh = createRoute({
  method: 'post',
  path: '/api/v1/auth/refresh',
  tags,
  security: [],
  summary: 'Exchange a refresh token for new tokens (the old one is rotated out)',
  request: { body: jsonBody(RefreshSchema) },
  responses: { 200: jsonContent(TokenPairSchema, 'Tokens'), ...problemResponses(400, 401) },
});
const logout = createRoute({
  method: 'post',
  path: '/api/v1/auth/logout',
  tags,
  security: [],
  summary: 'Revoke a refresh token and its session',
  request: { body: jsonBody(RefreshSchema) },
  responses: { 204: { description: 'Logged out' }, ...problemResponses(400, 401) },
});
const changePassword = createRoute({
  method: 'post',
  path: '/api/v1/auth/password',
  tags,
  summary: "Change the caller's password; other sessions end",
  request: { body: jsonBody(PasswordChangeSchema) },
  responses: { 200: jsonContent(TokenPairSchema, 'New tokens'), ...problemResponses(400, 401, 429) },
});
const me = createRoute({
  method: 'get',
  path: '/api/v1/auth/me',
  tags,
  summary: 'The authenticated user',
  responses: { 200: jsonContent(MeSchema, 'The caller and what it may do'), ...problemResponses(401) },
});

export function register(app: HubApp, deps: ApiDeps): void {
  registerSessionRoutes(app, deps);
  app.openapi(login, async (c) => {
    const body = c.req.valid('json');
    return c.json(await deps.auth.login(body.email, body.password, clientIp(c)), 200);
  });
  app.openapi(refresh, async (c) =>
    c.json(await deps.auth.refresh(c.req.valid('json').refreshToken, clientIp(c)), 200),
  );
  app.openapi(logout, async (c) => {
    await deps.auth.logout(c.req.valid('json').refreshToken, clientIp(c));
    return c.body(null, 204);
  });
  app.openapi(changePassword, async (c) => {
    const body = c.req.valid('json');
    const pair = await deps.auth.changePassword(
      c.get('principal'),
      body.currentPassword,
      body.newPassword,
      clientIp(c),
    );
    return c.json(pair, 200);
  });
  app.openapi(me, async (c) => {
    const user = await findUserById(deps.db.kysely, c.get('principal').userId);
    if (!user) throw new HubError('AUTH_TOKEN_INVALID');
    const view = toUserView(user);
    return c.json({ ...view, permissions: [...RolePermissions[view.role]] }, 200);
  });
}
