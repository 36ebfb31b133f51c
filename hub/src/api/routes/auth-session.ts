import { ErrorCodes } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { PasswordSchema } from '../../auth/passwords';
import type { TokenPair } from '../../auth/service';
import { HubError } from '../../errors';
import { clientIp } from '../client-ip';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { PROBLEM_CONTENT_TYPE, problemOf, problemResponses } from '../problem';
import { jsonBody, jsonContent } from '../schemas';

/**
 * The cookie mode of the auth routes, for the console: the refresh token never reaches the page's script.
 * It lives in an HttpOnly, SameSite=Strict cookie scoped to these paths (Secure when the request came over
 * TLS); the page keeps only the short-lived access token in memory. Every call must carry the
 * `X-Crema-CSRF` header: a cross-site form or image cannot set it, and a cross-site script cannot send it
 * without a CORS preflight the hub never grants. The JSON refresh flow (`/auth/refresh`) stays for API
 * clients.
 */
export const SESSION_COOKIE = 'crema_refresh';
export const CSRF_HEADER = 'x-crema-csrf';
const COOKIE_PATH = '/api/v1/auth/session';

const SessionTokensSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresAt: z.number().int(),
    refreshExpiresAt: z.number().int(),
  })
  .openapi('SessionTokens');

const LoginSchema = z.object({
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(256),
});
const PasswordChangeSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: PasswordSchema,
});
const csrfHeaders = z.object({
  [CSRF_HEADER]: z.string().optional().openapi({ description: 'Required (any value): CSRF protection' }),
});

const tags = ['auth'];
const login = createRoute({
  method: 'post',
  path: '/api/v1/auth/session',
  tags,
  security: [],
  summary: 'Log in; the refresh token is set as an HttpOnly cookie (console)',
  request: { headers: csrfHeaders, body: jsonBody(LoginSchema) },
  responses: {
    200: jsonContent(SessionTokensSchema, 'Access token'),
    ...problemResponses(400, 401, 403, 429),
  },
});
const refresh = createRoute({
  method: 'post',
  path: '/api/v1/auth/session/refresh',
  tags,
  security: [],
  summary: 'A new access token for the session cookie (rotated)',
  request: { headers: csrfHeaders },
  responses: { 200: jsonContent(SessionTokensSchema, 'Access token'), ...problemResponses(401, 403) },
});
const logout = createRoute({
  method: 'post',
  path: '/api/v1/auth/session/logout',
  tags,
  security: [],
  summary: "Revoke the session cookie's refresh token and clear the cookie",
  request: { headers: csrfHeaders },
  responses: { 204: { description: 'Logged out' }, ...problemResponses(403) },
});
const changePassword = createRoute({
  method: 'post',
  path: '/api/v1/auth/session/password',
  tags,
  summary: "Change the caller's password; other sessions end, this one gets a new cookie",
  request: { headers: csrfHeaders, body: jsonBody(PasswordChangeSchema) },
  responses: {
    200: jsonContent(SessionTokensSchema, 'New access token'),
    ...problemResponses(400, 401, 403, 429),
  },
});

/** Public session paths (the bearer check skips them). */
export const SESSION_PUBLIC_PATHS = [login.path, refresh.path, logout.path];

function requireCsrfHeader(c: Context): void {
  if (!c.req.header(CSRF_HEADER))
    throw new HubError('FORBIDDEN', `cookie session calls must carry the ${CSRF_HEADER} header`);
}

function isTls(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

function withCookie(c: Context, pair: TokenPair) {
  setCookie(c, SESSION_COOKIE, pair.refreshToken, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isTls(c),
    path: COOKIE_PATH,
    expires: new Date(pair.refreshExpiresAt),
  });
  const { refreshToken: _kept, ...tokens } = pair;
  return tokens;
}

export function registerSessionRoutes(app: HubApp, deps: ApiDeps): void {
  app.openapi(login, async (c) => {
    requireCsrfHeader(c);
    const body = c.req.valid('json');
    return c.json(withCookie(c, await deps.auth.login(body.email, body.password, clientIp(c))), 200);
  });
  app.openapi(refresh, async (c) => {
    requireCsrfHeader(c);
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) throw new HubError('AUTH_REQUIRED', 'no session cookie');
    try {
      return c.json(withCookie(c, await deps.auth.refresh(token, clientIp(c))), 200);
    } catch (err) {
      if (!(err instanceof HubError) || ErrorCodes[err.code].status !== 401) throw err;
      // A dead cookie is removed, so the page stops offering it (onError's response would drop the header).
      deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isTls(c) });
      const problem = c.body(JSON.stringify(problemOf(err.code, err.message, c.req.path)), 401, {
        'content-type': PROBLEM_CONTENT_TYPE,
      });
      // The problem is the documented 401 (problemResponses); the route typing knows only its JSON 200.
      return problem as unknown as ReturnType<typeof c.json<z.infer<typeof SessionTokensSchema>, 200>>;
    }
  });
  app.openapi(logout, async (c) => {
    requireCsrfHeader(c);
    const token = getCookie(c, SESSION_COOKIE);
    // Logging out of an already ended session is still a logout: the cookie goes either way.
    if (token) await deps.auth.logout(token, clientIp(c)).catch(() => undefined);
    deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isTls(c) });
    return c.body(null, 204);
  });
  app.openapi(changePassword, async (c) => {
    requireCsrfHeader(c);
    const body = c.req.valid('json');
    const pair = await deps.auth.changePassword(
      c.get('principal'),
      body.currentPassword,
      body.newPassword,
      clientIp(c),
    );
    return c.json(withCookie(c, pair), 200);
  });
}
