import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { Kysely } from 'kysely';
import { ConflictProbes } from '../../auth/conflict-probes';
import { CommandService } from '../../commands/service';
import type { Database } from '../../db/database';
import { generateDeviceSecret, hashDeviceSecret } from '../../devices/credentials';
import { deviceCsvStream } from '../../devices/csv';
import { LocationRepository } from '../../devices/locations';
import { DEVICE_SORTS, type DeviceFilter, DeviceRepository, toDeviceView } from '../../devices/repository';
import { HubError } from '../../errors';
import { callerOf } from '../../operations/http';
import { MaintenanceQuery } from '../../operations/maintenance/query';
import { OrderStatusSchema } from '../../operations/orders/query';
import { OrderService } from '../../operations/orders/service';
import { principalCan, requirePermission } from '../../rbac/require-permission';
import { TenantScope } from '../../rbac/scope';
import { auditActor } from '../audit-context';
import { clientIp } from '../client-ip';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { DeviceIdParamSchema, jsonBody, jsonContent, NameSchema, PageQuerySchema, pageOf } from '../schemas';
import { MaintenanceSchema } from './maintenance';

/** How many recent orders and commands a device's detail shows. */
const RECENT = 10;

export const DeviceSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    locationId: z.string().nullable(),
    model: z.string(),
    name: z.string().nullable(),
    status: z.enum(['active', 'revoked']),
    credentialRotatedAt: z.number().int(),
    revokedAt: z.number().int().nullable(),
    createdAt: z.number().int(),
  })
  .openapi('Device');
const DeviceListItemSchema = DeviceSchema.extend({
  online: z.boolean().openapi({ description: 'Connected now, as the fleet state says' }),
  lastSeenAt: z.number().int().nullable(),
}).openapi('DeviceListItem');
const DevicePageSchema = pageOf(DeviceListItemSchema, 'DevicePage');
const DeviceDetailSchema = DeviceSchema.extend({
  state: z
    .record(z.string(), z.unknown())
    .nullable()
    .openapi({ description: 'Latest fleet state, when known' }),
  recentOrders: z
    .array(
      z.object({
        orderId: z.string(),
        status: OrderStatusSchema,
        recipeId: z.string(),
        size: z.string(),
        amount: z.number().int(),
        currency: z.string(),
        createdAt: z.number().int(),
      }),
    )
    .nullable()
    .openapi({
      description: `The latest ${RECENT} orders, newest first; null for a caller without order:read`,
    }),
  recentCommands: z
    .array(
      z.object({
        id: z.string(),
        kind: z.string(),
        status: z.string(),
        issuedAt: z.number().int(),
        finishedAt: z.number().int().nullable(),
      }),
    )
    .openapi({ description: `The latest ${RECENT} commands, newest first` }),
  maintenance: MaintenanceSchema.nullable().openapi({
    description: 'Cleaning compliance (rinse, descale) from its last report; null before the first',
  }),
}).openapi('DeviceDetail');
const CredentialSchema = z
  .object({
    deviceId: z.string(),
    secret: z.string().openapi({ description: 'Shown once; the hub keeps only a hash' }),
  })
  .openapi('DeviceCredential');

const ModelSchema = z.string().trim().min(1).max(64);
const FilterSchema = z.object({
  merchantId: IdSchema.optional(),
  locationId: IdSchema.optional(),
  model: ModelSchema.optional(),
  status: z.enum(['active', 'revoked']).optional(),
  online: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ type: 'boolean', description: 'Only connected (true) or disconnected (false) devices' }),
  alarm: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ type: 'boolean', description: 'Only devices with (true) or without (false) an open alarm' }),
  q: z.string().trim().max(100).optional(),
});
const ListQuerySchema = PageQuerySchema.extend(FilterSchema.shape).extend({
  sort: z.enum(DEVICE_SORTS).default('id'),
  order: z.enum(['asc', 'desc']).default('asc'),
});
const RegisterSchema = z.object({
  id: DeviceIdSchema.optional(),
  merchantId: IdSchema.optional(),
  locationId: IdSchema.nullable().optional(),
  model: ModelSchema,
  name: NameSchema.nullable().optional(),
});
const UpdateSchema = z
  .object({
    locationId: IdSchema.nullable().optional(),
    model: ModelSchema.optional(),
    name: NameSchema.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

const tags = ['devices'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/devices',
  tags,
  summary: 'List devices with filters, search, sorting and pagination',
  middleware: requirePermission('device:read'),
  request: { query: ListQuerySchema },
  responses: { 200: jsonContent(DevicePageSchema, 'Devices'), ...errors },
});
const exportCsv = createRoute({
  method: 'get',
  path: '/api/v1/devices/export.csv',
  tags,
  summary: 'Export the filtered devices as CSV (streamed)',
  middleware: requirePermission('device:read'),
  request: { query: FilterSchema },
  responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errors },
});
const registerDevice = createRoute({
  method: 'post',
  path: '/api/v1/devices',
  tags,
  summary: 'Register a device; the answer holds its credential, shown only this once',
  middleware: requirePermission('device:write'),
  request: { body: jsonBody(RegisterSchema) },
  responses: {
    201: jsonContent(z.object({ device: DeviceSchema, credential: CredentialSchema }), 'Registered'),
    ...errors,
  },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/devices/{id}',
  tags,
  summary: 'One device with its latest state',
  middleware: requirePermission('device:read'),
  request: { params: DeviceIdParamSchema },
  responses: { 200: jsonContent(DeviceDetailSchema, 'The device'), ...errors },
});
const update = createRoute({
  method: 'patch',
  path: '/api/v1/devices/{id}',
  tags,
  summary: "Change a device's name, model or location",
  middleware: requirePermission('device:write'),
  request: { params: DeviceIdParamSchema, body: jsonBody(UpdateSchema) },
  responses: { 200: jsonContent(DeviceSchema, 'Updated'), ...errors },
});
const rotate = createRoute({
  method: 'post',
  path: '/api/v1/devices/{id}/credential',
  tags,
  summary: 'Rotate the credential (the old one stops working; a revoked device is reinstated)',
  middleware: requirePermission('device:write'),
  request: { params: DeviceIdParamSchema },
  responses: { 200: jsonContent(CredentialSchema, 'The new credential, shown once'), ...errors },
});
const revoke = createRoute({
  method: 'post',
  path: '/api/v1/devices/{id}/revoke',
  tags,
  summary: 'Revoke the credential; the device is disconnected and refused',
  middleware: requirePermission('device:write'),
  request: { params: DeviceIdParamSchema },
  responses: { 200: jsonContent(DeviceSchema, 'Revoked'), ...errors },
});

function filterOf(q: z.infer<typeof FilterSchema>): DeviceFilter {
  const out: DeviceFilter = {};
  if (q.merchantId !== undefined) out.merchantId = q.merchantId;
  if (q.locationId !== undefined) out.locationId = q.locationId;
  if (q.model !== undefined) out.model = q.model;
  if (q.status !== undefined) out.status = q.status;
  if (q.online !== undefined) out.online = q.online;
  if (q.alarm !== undefined) out.alarm = q.alarm;
  if (q.q !== undefined && q.q !== '') out.q = q.q;
  return out;
}

export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  const scopeOf = (c: Context<HubEnv>) => new TenantScope(c.get('principal'));
  const repo = (c: Context<HubEnv>) => new DeviceRepository(db, scopeOf(c), deps.clock, deps.db.reads);
  const probes = new ConflictProbes(db, deps.clock);

  /** A location must exist, be visible, and belong to the device's merchant. */
  async function checkLocation(
    c: Context<HubEnv>,
    trx: Kysely<Database>,
    locationId: string | null | undefined,
    merchantId: string,
  ) {
    if (locationId === null || locationId === undefined) return;
    // Inside the caller's transaction: SQLite has one connection, a query outside it would wait forever.
    const location = await new LocationRepository(db, scopeOf(c), deps.clock).get(locationId, trx);
    if (location.merchant_id !== merchantId) throw new HubError('NOT_FOUND', 'location not found');
  }

  app.openapi(list, async (c) => {
    const { limit, offset, sort, order, ...filter } = c.req.valid('query');
    const { itemsJson, total } = await repo(c).listJson(filterOf(filter), { limit, offset, sort, order });
    // The items arrive as JSON text (see listJson); the page around them is the DevicePage schema's shape.
    const body = `{"items":${itemsJson},"total":${total},"limit":${limit},"offset":${offset}}`;
    return c.body(body, 200, { 'content-type': 'application/json' }) as unknown as TypedResponse<
      z.infer<typeof DevicePageSchema>,
      200,
      'json'
    >;
  });

  app.openapi(exportCsv, async (c) => {
    const stream = deviceCsvStream(repo(c).iterate(filterOf(c.req.valid('query'))));
    return c.body(stream, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="devices.csv"',
    });
  });

  app.openapi(registerDevice, async (c) => {
    const body = c.req.valid('json');
    const merchantId = scopeOf(c).merchantForCreate(body.merchantId);
    const secret = generateDeviceSecret();
    const credentialHash = await hashDeviceSecret(secret);
    await probes.check(c.get('principal'), clientIp(c));
    const creating = db.transaction().execute(async (trx) => {
      const merchant = await trx
        .selectFrom('merchants')
        .select('id')
        .where('id', '=', merchantId)
        .executeTakeFirst();
      if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
      await checkLocation(c, trx, body.locationId, merchantId);
      const created = await repo(c).create(trx, {
        ...(body.id === undefined ? {} : { id: body.id }),
        merchantId,
        locationId: body.locationId ?? null,
        model: body.model,
        name: body.name ?? null,
        credentialHash,
      });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'device.register',
        targetType: 'device',
        targetId: created.id,
        merchantId,
        after: toDeviceView(created),
      });
      // An external broker holding device credentials gets it before the commit (rolled back if it refuses).
      await deps.deviceSessions.credentialChanged({ deviceId: created.id, kind: 'set', secret });
      return created;
    });
    // Ids are global (MQTT topics): the same answer whichever merchant the clash is with.
    const row = await creating.catch(
      probes.refusal(c.get('principal'), clientIp(c), 'this device id cannot be registered'),
    );
    return c.json({ device: toDeviceView(row), credential: { deviceId: row.id, secret } }, 201);
  });

  app.openapi(detail, async (c) => {
    const row = await repo(c).get(c.req.valid('param').id);
    const { scope } = callerOf(c);
    const page = { deviceId: row.id, limit: RECENT, offset: 0 };
    const [state, orders, commands, maintenance] = await Promise.all([
      deps.deviceState ? deps.deviceState(row.id) : null,
      principalCan(c.get('principal'), 'order:read')
        ? new OrderService(deps.operations.ctx).list(scope, page)
        : undefined,
      new CommandService(deps.operations.ctx).list(scope, page),
      new MaintenanceQuery(deps.operations.ctx).get(scope, row.id),
    ]);
    const recentOrders =
      orders?.items.map(({ orderId, status, items, amount, currency, createdAt }) => ({
        orderId,
        status,
        recipeId: items[0]?.recipeId ?? '',
        size: items[0]?.size ?? '',
        amount,
        currency,
        createdAt,
      })) ?? null;
    const recentCommands = commands.items.map(({ id, kind, status, issuedAt, finishedAt }) => ({
      id,
      kind,
      status,
      issuedAt,
      finishedAt,
    }));
    return c.json({ ...toDeviceView(row), state, recentOrders, recentCommands, maintenance }, 200);
  });

  app.openapi(update, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const { after } = await db.transaction().execute(async (trx) => {
      const current = await repo(c).get(id, trx);
      await checkLocation(c, trx, body.locationId, current.merchant_id);
      const changed = await repo(c).update(trx, id, {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.model === undefined ? {} : { model: body.model }),
        ...(body.locationId === undefined ? {} : { location_id: body.locationId }),
      });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'device.update',
        targetType: 'device',
        targetId: id,
        merchantId: current.merchant_id,
        before: toDeviceView(changed.before),
        after: toDeviceView(changed.after),
      });
      return changed;
    });
    return c.json(toDeviceView(after), 200);
  });

  app.openapi(rotate, async (c) => {
    const { id } = c.req.valid('param');
    const secret = generateDeviceSecret();
    const credentialHash = await hashDeviceSecret(secret);
    await db.transaction().execute(async (trx) => {
      const changed = await repo(c).update(trx, id, {
        credential_hash: credentialHash,
        revoked_at: null,
        rotated: true,
      });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'device.rotate_credential',
        targetType: 'device',
        targetId: id,
        merchantId: changed.before.merchant_id,
        before: toDeviceView(changed.before),
        after: toDeviceView(changed.after),
      });
      await deps.deviceSessions.credentialChanged({ deviceId: id, kind: 'set', secret });
    });
    deps.deviceSessions.disconnect(id);
    return c.json({ deviceId: id, secret }, 200);
  });

  app.openapi(revoke, async (c) => {
    const { id } = c.req.valid('param');
    const { after } = await db.transaction().execute(async (trx) => {
      const current = await repo(c).get(id, trx);
      if (current.revoked_at !== null)
        throw new HubError('INVALID_TRANSITION', 'the device is already revoked');
      const changed = await repo(c).update(trx, id, { revoked_at: deps.clock.now() });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'device.revoke',
        targetType: 'device',
        targetId: id,
        merchantId: current.merchant_id,
        before: toDeviceView(changed.before),
        after: toDeviceView(changed.after),
      });
      await deps.deviceSessions.credentialChanged({ deviceId: id, kind: 'revoke' });
      return changed;
    });
    deps.deviceSessions.disconnect(id);
    return c.json(toDeviceView(after), 200);
  });
}
