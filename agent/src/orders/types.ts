import {
  type Consumption,
  IdSchema,
  type PaymentMethod,
  PaymentMethodSchema,
  type SizeId,
  SizeIdSchema,
} from '@crema/protocol';
import { z } from 'zod';

/**
 * Order states, each committed before the action it leads to:
 * authorizing (AUTH sent next) → brewing (first brewer command next) → capturing (drink confirmed dispensed,
 * CAPTURE next) → completed; on any failure voiding (VOID next) → failed. Free vends go brewing → completed.
 */
export const ORDER_STATES = [
  'authorizing',
  'brewing',
  'capturing',
  'completed',
  'voiding',
  'failed',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];
export const FINAL_ORDER_STATES: readonly OrderState[] = ['completed', 'failed'];

export const PAYMENT_STATES = [
  'authorizing',
  'authorized',
  'declined',
  'capturing',
  'captured',
  'voiding',
  'voided',
  'none',
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export type Payment = { id: string; txn?: string; state: PaymentState; attempts: number; lastError?: string };

export type Order = {
  id: string;
  recipeId: string;
  size: SizeId;
  amount: number;
  currency: string;
  method: PaymentMethod;
  state: OrderState;
  code?: string;
  reason?: string;
  dispensedAt?: number;
  consumption?: Consumption;
  payment?: Payment;
  createdAt: number;
  updatedAt: number;
};

export const CreateOrderSchema = z
  .object({ recipeId: IdSchema, size: SizeIdSchema, method: PaymentMethodSchema.default('card') })
  .strict();
export type CreateOrder = z.input<typeof CreateOrderSchema>;
