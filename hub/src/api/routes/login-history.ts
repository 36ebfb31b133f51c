import { createRoute, z } from '@hono/zod-openapi';
import { LOGIN_RESULTS, LoginHistoryQuerySchema } from '../../auth/login-history';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonContent, pageOf } from '../schemas';

const LoginEventSchema = z
  .object({
    id: z.string(),
    userId: z.string().nullable().openapi({ description: 'Null when the email matched no account' }),
    email: z.string(),
    ip: z.string(),
    result: z.enum(LOGIN_RESULTS),
    at: z.number().int(),
  })
  .openapi('LoginEvent');

const list = createRoute({
  method: 'get',
  path: '/api/v1/auth/logins',
  tags: ['auth'],
  summary:
    "The caller's login attempts (time, address, result), newest first; the platform admin sees everyone's and may filter by user",
  request: { query: LoginHistoryQuerySchema },
  responses: {
    200: jsonContent(pageOf(LoginEventSchema, 'LoginEventPage'), 'Login attempts'),
    ...problemResponses(400, 401, 404),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(list, async (c) =>
    c.json(await deps.logins.list(c.get('principal'), c.req.valid('query')), 200),
  );
}
