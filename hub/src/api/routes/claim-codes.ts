import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  CLAIM_CODE_STATUSES,
  CLAIM_TTL,
  ClaimCodeRepository,
  toClaimCodeView,
} from '../../devices/claim-codes';
import { requirePermission } from '../../rbac/require-permission';
import { TenantScope } from '../../rbac/scope';
import { auditActor } from '../audit-context';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const ClaimCodeSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    locationId: z.string().nullable(),
    expectedDeviceId: z.string().nullable().openapi({ description: 'Only this device id may claim' }),
    expectedModel: z.string().nullable().openapi({ description: 'Only this model may claim' }),
    note: z.string().nullable(),
    status: z.enum(CLAIM_CODE_STATUSES),
    createdBy: z.string(),
    createdAt: z.number().int(),
    expiresAt: z.number().int(),
    claimedAt: z.number().int().nullable(),
    claimedDeviceId: z.string().nullable().openapi({ description: 'The device the claim registered' }),
    claimedIp: z.string().nullable().openapi({ description: 'The address the claim came from' }),
    revokedAt: z.number().int().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('ClaimCode');
const IssuedSchema = z
  .object({
    claimCode: ClaimCodeSchema,
    code: z.string().openapi({
      description: 'The code to enter on the machine, shown only this once (the hub keeps a hash)',
      example: '7K3M-QX2A-9PZR-D4HT',
    }),
  })
  .openapi('IssuedClaimCode');
const IssueSchema = z.object({
  merchantId: IdSchema.optional(),
  locationId: IdSchema,
  deviceId: DeviceIdSchema.optional().openapi({ description: 'Restrict the code to this device id' }),
  model: IdSchema.optional().openapi({ description: 'Restrict the code to this machine model' }),
  ttlMs: z
    .number()
    .int()
    .min(CLAIM_TTL.minMs)
    .max(CLAIM_TTL.maxMs)
    .optional()
    .openapi({ description: 'Validity in ms; default 24 h, at most 7 days' }),
  note: z.string().trim().max(200).optional(),
});
const ListQuerySchema = PageQuerySchema.extend({
  merchantId: IdSchema.optional(),
  locationId: IdSchema.optional(),
  status: z.enum(CLAIM_CODE_STATUSES).optional(),
});

const tags = ['devices'];
const errors = problemResponses(400, 401, 403, 404, 409);
const base = '/api/v1/claim-codes';
const list = createRoute({
  method: 'get',
  path: base,
  tags,
  summary: 'Claim codes, newest first, with their status and the device that used each',
  middleware: requirePermission('device:write'),
  request: { query: ListQuerySchema },
  responses: { 200: jsonContent(pageOf(ClaimCodeSchema, 'ClaimCodePage'), 'Claim codes'), ...errors },
});
const issue = createRoute({
  method: 'post',
  path: base,
  tags,
  summary: 'Issue a one-time claim code for a merchant and location; the code is shown only in this answer',
  middleware: requirePermission('device:write'),
  request: { body: jsonBody(IssueSchema) },
  responses: { 201: jsonContent(IssuedSchema, 'Issued'), ...errors },
});
const revoke = createRoute({
  method: 'post',
  path: `${base}/{id}/revoke`,
  tags,
  summary: 'Revoke a pending claim code (a used or expired one is refused: 409 INVALID_TRANSITION)',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(ClaimCodeSchema, 'Revoked'), ...errors },
});

/** The admin side of claim codes (hub/README.md "Claim codes"); the machine's side is device-channel/claim-route.ts. */
export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  const repo = (c: Context<HubEnv>) =>
    new ClaimCodeRepository(db, new TenantScope(c.get('principal')), deps.clock);

  app.openapi(list, async (c) => {
    const { limit, offset, ...filter } = c.req.valid('query');
    const { items, total } = await repo(c).list(filter, { limit, offset });
    return c.json({ items, total, limit, offset }, 200);
  });

  app.openapi(issue, async (c) => {
    const body = c.req.valid('json');
    const issued = await db.transaction().execute(async (trx) => {
      const { row, code } = await repo(c).issue(trx, c.get('principal').userId, body);
      const view = toClaimCodeView(row, deps.clock.now());
      // The code itself never reaches the audit log: only who issued which claim code for where.
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'claim_code.issue',
        targetType: 'claim_code',
        targetId: row.id,
        merchantId: row.merchant_id,
        after: view,
      });
      return { claimCode: view, code };
    });
    return c.json(issued, 201);
  });

  app.openapi(revoke, async (c) => {
    const { id } = c.req.valid('param');
    const after = await db.transaction().execute(async (trx) => {
      const changed = await repo(c).revoke(trx, id, c.get('principal').userId);
      const now = deps.clock.now();
      const view = toClaimCodeView(changed.after, now);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'claim_code.revoke',
        targetType: 'claim_code',
        targetId: id,
        merchantId: changed.before.merchant_id,
        before: toClaimCodeView(changed.before, now),
        after: view,
      });
      return view;
    });
    return c.json(after, 200);
  });
}
