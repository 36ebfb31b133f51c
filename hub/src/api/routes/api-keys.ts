import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { MAX_ALLOWED_IPS } from '../../api-keys/ip-allow-list';
import { API_KEY_PERMISSIONS, API_KEY_STATUSES, type ApiKeyView } from '../../api-keys/model';
import { ApiKeyService } from '../../api-keys/service';
import { callerOf, mutate } from '../../operations/http';
import { PERMISSIONS } from '../../rbac/permissions';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, NameSchema, PageQuerySchema, pageOf } from '../schemas';

const ApiKeySchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The public part `crema_ak_<id>`, to recognise the key' }),
    permissions: z.array(z.enum(PERMISSIONS)),
    allowedIps: z
      .array(z.string())
      .nullable()
      .openapi({ description: 'CIDRs it may be used from; null: any' }),
    status: z.enum(API_KEY_STATUSES),
    expiresAt: z.number().int().nullable(),
    lastUsedAt: z.number().int().nullable().openapi({ description: 'Recorded at most once a minute' }),
    lastUsedIp: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
    rotatedAt: z.number().int().nullable(),
    revokedAt: z.number().int().nullable(),
  })
  .openapi('ApiKey');
const WithSecretSchema = z
  .object({
    key: ApiKeySchema,
    apiKey: z.string().openapi({
      description: 'The whole key, `crema_ak_<id>_<secret>`: shown only this once, stored only as a hash',
    }),
  })
  .openapi('ApiKeySecret');
const CreateSchema = z.object({
  merchantId: IdSchema.optional().openapi({
    description: "Required for the superadmin; else the caller's own",
  }),
  name: NameSchema,
  permissions: z
    .array(z.enum(API_KEY_PERMISSIONS))
    .min(1)
    .max(API_KEY_PERMISSIONS.length)
    .openapi({ description: "Each one the caller's role holds; never users, keys or platform-wide changes" }),
  allowedIps: z
    .array(z.string().max(64))
    .min(1)
    .max(MAX_ALLOWED_IPS)
    .nullable()
    .optional()
    .openapi({ description: 'IPv4/IPv6 addresses or CIDRs the key may be used from; omit for any' }),
  expiresAt: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .openapi({ description: 'Epoch ms; omit for none' }),
});

const tags = ['api-keys'];
/** Key management needs a signed-in user: an API key presented here is refused (403). */
const security = [{ bearer: [] }];
const errors = problemResponses(400, 401, 403, 404, 409);
const base = '/api/v1/api-keys';
const list = createRoute({
  method: 'get',
  path: base,
  tags,
  security,
  summary: 'API keys of the merchant (never their secrets), with status and last use',
  middleware: requirePermission('api_key:read'),
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(pageOf(ApiKeySchema, 'ApiKeyPage'), 'Keys'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: base,
  tags,
  security,
  summary: 'Create a key limited to permissions, a merchant and optionally addresses; the key is shown once',
  middleware: requirePermission('api_key:write'),
  request: { body: jsonBody(CreateSchema) },
  responses: { 201: jsonContent(WithSecretSchema, 'Created'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: `${base}/{id}`,
  tags,
  security,
  summary: 'One key (never its secret)',
  middleware: requirePermission('api_key:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(ApiKeySchema, 'The key'), ...errors },
});
const rotate = createRoute({
  method: 'post',
  path: `${base}/{id}/rotate`,
  tags,
  security,
  summary: 'A new secret (shown once); the old one stops working at once',
  middleware: requirePermission('api_key:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(WithSecretSchema, 'Rotated'), ...errors },
});
const revoke = createRoute({
  method: 'post',
  path: `${base}/{id}/revoke`,
  tags,
  security,
  summary: 'Revoke the key for good; it stops working at once and stays listed as revoked',
  middleware: requirePermission('api_key:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(ApiKeySchema, 'Revoked'), ...errors },
});

/** The API-key API (hub/README.md "API keys"); changes are audited, never with the secret. */
export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new ApiKeyService(deps.operations.ctx);
  const audit = (action: string, k: ApiKeyView, before?: ApiKeyView, after?: ApiKeyView) => ({
    action,
    targetType: 'api_key',
    targetId: k.id,
    merchantId: k.merchantId,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
  });

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );

  app.openapi(create, async (c) => {
    const { scope } = callerOf(c);
    const body = c.req.valid('json');
    const created = await mutate(c, deps, async (tx) => {
      const r = await new ApiKeyService(tx).create(scope, c.get('principal'), body);
      return { result: r, audit: [audit('api_key.create', r.key, undefined, r.key)] };
    });
    return c.json(created, 201);
  });

  app.openapi(rotate, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const rotated = await mutate(c, deps, async (tx) => {
      const r = await new ApiKeyService(tx).rotate(scope, id);
      return { result: r, audit: [audit('api_key.rotate', r.key)] };
    });
    return c.json(rotated, 200);
  });

  app.openapi(revoke, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const after = await mutate(c, deps, async (tx) => {
      const r = await new ApiKeyService(tx).revoke(scope, id);
      return { result: r.after, audit: [audit('api_key.revoke', r.after, r.before, r.after)] };
    });
    return c.json(after, 200);
  });
}
