import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { TimeZoneSchema } from '../../operations/shared/time-zone';
import { MerchantRepository, toMerchantView } from '../../rbac/merchants';
import { requirePermission } from '../../rbac/require-permission';
import { auditActor } from '../audit-context';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, NameSchema, PageQuerySchema, pageOf } from '../schemas';

const MerchantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    timeZone: z.string().openapi({ description: 'IANA zone of its finance days and dashboard' }),
    createdAt: z.number().int(),
  })
  .openapi('Merchant');
const ZoneSchema = TimeZoneSchema.openapi({ example: 'Europe/Lisbon' });
const CreateMerchantSchema = z.object({
  id: IdSchema.optional(),
  name: NameSchema,
  timeZone: ZoneSchema.optional(),
});
const UpdateMerchantSchema = z
  .object({ name: NameSchema.optional(), timeZone: ZoneSchema.optional() })
  .refine((v) => v.name !== undefined || v.timeZone !== undefined, 'nothing to change');

const tags = ['merchants'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/merchants',
  tags,
  summary: 'List merchants (superadmin)',
  middleware: requirePermission('merchant:read'),
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(pageOf(MerchantSchema, 'MerchantPage'), 'Merchants'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: '/api/v1/merchants',
  tags,
  summary: 'Create a merchant (superadmin)',
  middleware: requirePermission('merchant:write'),
  request: { body: jsonBody(CreateMerchantSchema) },
  responses: { 201: jsonContent(MerchantSchema, 'Created'), ...errors },
});
const get = createRoute({
  method: 'get',
  path: '/api/v1/merchants/{id}',
  tags,
  summary: 'One merchant (superadmin)',
  middleware: requirePermission('merchant:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(MerchantSchema, 'The merchant'), ...errors },
});
const update = createRoute({
  method: 'patch',
  path: '/api/v1/merchants/{id}',
  tags,
  summary: 'Rename a merchant or change its time zone (superadmin)',
  middleware: requirePermission('merchant:write'),
  request: { params: IdParamSchema, body: jsonBody(UpdateMerchantSchema) },
  responses: { 200: jsonContent(MerchantSchema, 'Updated'), ...errors },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/v1/merchants/{id}',
  tags,
  summary: 'Delete a merchant that owns nothing (superadmin)',
  middleware: requirePermission('merchant:write'),
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  const repo = new MerchantRepository(db, deps.clock);

  app.openapi(list, async (c) => {
    const page = c.req.valid('query');
    const { items, total } = await repo.list(page);
    return c.json({ items: items.map(toMerchantView), total, ...page }, 200);
  });
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const row = await db.transaction().execute(async (trx) => {
      const created = await repo.create(trx, body);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'merchant.create',
        targetType: 'merchant',
        targetId: created.id,
        merchantId: created.id,
        after: toMerchantView(created),
      });
      return created;
    });
    return c.json(toMerchantView(row), 201);
  });
  app.openapi(get, async (c) => c.json(toMerchantView(await repo.get(c.req.valid('param').id)), 200));
  app.openapi(update, async (c) => {
    const { id } = c.req.valid('param');
    const { after } = await db.transaction().execute(async (trx) => {
      const changed = await repo.update(trx, id, c.req.valid('json'));
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'merchant.update',
        targetType: 'merchant',
        targetId: id,
        merchantId: id,
        before: toMerchantView(changed.before),
        after: toMerchantView(changed.after),
      });
      return changed;
    });
    return c.json(toMerchantView(after), 200);
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    await db.transaction().execute(async (trx) => {
      const before = await repo.delete(trx, id);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'merchant.delete',
        targetType: 'merchant',
        targetId: id,
        merchantId: id,
        before: toMerchantView(before),
      });
    });
    return c.body(null, 204);
  });
}
