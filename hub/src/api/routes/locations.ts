import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { LocationRepository, toLocationView } from '../../devices/locations';
import { HubError } from '../../errors';
import { requirePermission } from '../../rbac/require-permission';
import { TenantScope } from '../../rbac/scope';
import { auditActor } from '../audit-context';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, NameSchema, PageQuerySchema, pageOf } from '../schemas';

const LocationSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    name: z.string(),
    address: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .openapi('Location');
const AddressSchema = z.string().trim().max(500).nullable();
const CreateLocationSchema = z.object({
  merchantId: IdSchema.optional(),
  name: NameSchema,
  address: AddressSchema.optional(),
});
const UpdateLocationSchema = z
  .object({ name: NameSchema.optional(), address: AddressSchema.optional() })
  .refine((v) => v.name !== undefined || v.address !== undefined, 'nothing to change');

const tags = ['locations'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/locations',
  tags,
  summary: "List locations (the caller's merchant; all or one merchant for the superadmin)",
  middleware: requirePermission('location:read'),
  request: { query: PageQuerySchema.extend({ merchantId: IdSchema.optional() }) },
  responses: { 200: jsonContent(pageOf(LocationSchema, 'LocationPage'), 'Locations'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: '/api/v1/locations',
  tags,
  summary: 'Create a location',
  middleware: requirePermission('location:write'),
  request: { body: jsonBody(CreateLocationSchema) },
  responses: { 201: jsonContent(LocationSchema, 'Created'), ...errors },
});
const get = createRoute({
  method: 'get',
  path: '/api/v1/locations/{id}',
  tags,
  summary: 'One location',
  middleware: requirePermission('location:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(LocationSchema, 'The location'), ...errors },
});
const update = createRoute({
  method: 'patch',
  path: '/api/v1/locations/{id}',
  tags,
  summary: 'Change a location',
  middleware: requirePermission('location:write'),
  request: { params: IdParamSchema, body: jsonBody(UpdateLocationSchema) },
  responses: { 200: jsonContent(LocationSchema, 'Updated'), ...errors },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/v1/locations/{id}',
  tags,
  summary: 'Delete a location no device stands at',
  middleware: requirePermission('location:write'),
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  const repo = (c: Context<HubEnv>) =>
    new LocationRepository(db, new TenantScope(c.get('principal')), deps.clock);

  app.openapi(list, async (c) => {
    const { merchantId, ...page } = c.req.valid('query');
    const { items, total } = await repo(c).list(
      { ...(merchantId === undefined ? {} : { merchantId }) },
      page,
    );
    return c.json({ items: items.map(toLocationView), total, ...page }, 200);
  });
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const scope = new TenantScope(c.get('principal'));
    const merchantId = scope.merchantForCreate(body.merchantId);
    const row = await db.transaction().execute(async (trx) => {
      const merchant = await trx
        .selectFrom('merchants')
        .select('id')
        .where('id', '=', merchantId)
        .executeTakeFirst();
      if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
      const created = await repo(c).create(trx, {
        merchantId,
        name: body.name,
        address: body.address ?? null,
      });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'location.create',
        targetType: 'location',
        targetId: created.id,
        merchantId,
        after: toLocationView(created),
      });
      return created;
    });
    return c.json(toLocationView(row), 201);
  });
  app.openapi(get, async (c) => c.json(toLocationView(await repo(c).get(c.req.valid('param').id)), 200));
  app.openapi(update, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const { after } = await db.transaction().execute(async (trx) => {
      const changed = await repo(c).update(trx, id, body);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'location.update',
        targetType: 'location',
        targetId: id,
        merchantId: changed.before.merchant_id,
        before: toLocationView(changed.before),
        after: toLocationView(changed.after),
      });
      return changed;
    });
    return c.json(toLocationView(after), 200);
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    await db.transaction().execute(async (trx) => {
      const before = await repo(c).delete(trx, id);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'location.delete',
        targetType: 'location',
        targetId: id,
        merchantId: before.merchant_id,
        before: toLocationView(before),
      });
    });
    return c.body(null, 204);
  });
}
