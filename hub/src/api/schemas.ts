import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { z } from '@hono/zod-openapi';

/** Schemas shared by several route modules. */
// Protocol schemas are plain zod (no `.openapi()`); path parameters are named by their object key.
export const IdParamSchema = z.object({ id: IdSchema });
export const DeviceIdParamSchema = z.object({ id: DeviceIdSchema });

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      total: z.number().int(),
      limit: z.number().int(),
      offset: z.number().int(),
    })
    .openapi(name);
}

export const NameSchema = z.string().trim().min(1).max(200);

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

/** A refund as the orders and finance routes return it (each names it in the API document). */
export const RefundFieldsSchema = z.object({
  id: z.string(),
  merchantId: z.string(),
  deviceId: z.string(),
  orderId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number().int(),
});
