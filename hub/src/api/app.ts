import { Limits } from '@crema/protocol';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { ApiKeyAuthenticator } from '../api-keys/authenticate';
import { authenticate } from '../auth/authenticate';
import { HubError } from '../errors';
import { registerConsole } from './console';
import type { ApiDeps } from './deps';
import { registerApiDocs } from './docs';
import type { HubEnv } from './env';
import { errorHandler } from './error-handler';
import { problemOf, problemResponse } from './problem';
import { SESSION_PUBLIC_PATHS } from './routes/auth-session';
import { routeModules } from './routes/index';
import { ATTACHMENTS_PATH } from './routes/work-order-attachments';

export const API_PREFIX = '/api/v1';

/** Endpoints under the API prefix reachable without an admin access token. */
export const PUBLIC_API_PATHS: ReadonlySet<string> = new Set([
  `${API_PREFIX}/auth/login`,
  `${API_PREFIX}/auth/refresh`,
  `${API_PREFIX}/auth/logout`,
  ...SESSION_PUBLIC_PATHS,
]);
/**
 * Endpoints an API key cannot call (403): signing in, sessions and the event stream belong to a person, and
 * keys and users are managed only by a person signed in, so a leaked key cannot mint keys or accounts.
 */
export const API_KEY_REFUSED_PATHS: readonly string[] = [
  `${API_PREFIX}/auth`,
  `${API_PREFIX}/api-keys`,
  `${API_PREFIX}/users`,
  `${API_PREFIX}/events`,
];
const refusesApiKeys = (path: string) =>
  API_KEY_REFUSED_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
/** Admin endpoints whose body is streamed to storage with their own size limit. */
const STREAMED_UPLOADS: ReadonlySet<string> = new Set([`${API_PREFIX}/artifacts`]);
/** Device endpoints authenticate with the device credential themselves, not with an admin token. */
export const DEVICE_API_PREFIX = `${API_PREFIX}/device/`;

export function createApp(deps: ApiDeps): OpenAPIHono<HubEnv> {
  const app = new OpenAPIHono<HubEnv>({
    defaultHook: (result) => {
      if (!result.success)
        throw new HubError('VALIDATION_FAILED', 'The input does not match its schema', {
          details: result.error,
        });
    },
  });
  app.onError(errorHandler(deps.logger.child({ ns: 'hub:api' })));
  app.notFound((c) =>
    problemResponse(problemOf('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`, c.req.path)),
  );
  app.use('*', deps.metrics.middleware());
  const adminBodyLimit = bodyLimit({
    maxSize: Limits.messageBytes,
    onError: () => {
      throw new HubError('PAYLOAD_TOO_LARGE', `the body exceeds ${Limits.messageBytes} bytes`);
    },
  });
  // Device endpoints set their own limits per message type (a batch may be 1 MiB). Reads carry no body;
  // skipping them keeps the node adapter from building a full Request on hot GETs. Artifact uploads are
  // streamed and limited by the artifact store (MAX_ARTIFACT_BYTES), work-order attachments likewise.
  app.use('/api/*', (c, next) =>
    c.req.path.startsWith(DEVICE_API_PREFIX) ||
    c.req.method === 'GET' ||
    c.req.method === 'HEAD' ||
    STREAMED_UPLOADS.has(c.req.path) ||
    ATTACHMENTS_PATH.test(c.req.path)
      ? next()
      : adminBodyLimit(c, next),
  );
  const apiKeys = new ApiKeyAuthenticator(deps.db.kysely, deps.clock);
  const requireBearer = authenticate(deps.tokens, deps.sessions, apiKeys);
  app.use(`${API_PREFIX}/*`, async (c, next) => {
    if (PUBLIC_API_PATHS.has(c.req.path) || c.req.path.startsWith(DEVICE_API_PREFIX)) return next();
    return requireBearer(c, async () => {
      if (c.get('principal').apiKey && refusesApiKeys(c.req.path))
        throw new HubError('FORBIDDEN', 'this endpoint needs a signed-in user, not an API key');
      await next();
    });
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description:
      'An API key (`crema_ak_…`), also accepted as the bearer credential. Not accepted by /auth, /users, ' +
      '/api-keys and /events (403); see hub/README.md "API keys"',
  });

  for (const module of routeModules) module.register(app, deps);

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Crema hub API', version: '1.0.0', description: 'Admin API of the Crema fleet hub.' },
    security: [{ bearer: [] }, { apiKey: [] }],
  });
  registerApiDocs(app);
  registerConsole(app);
  return app;
}
