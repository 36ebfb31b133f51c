import { z } from 'zod';
import type { Dialect } from './frame';

const amount = z.coerce.number().int().min(0).max(100_000_000);
const txn = z.string().min(1).max(64);

export const PaymentTxnStateSchema = z.enum(['pending', 'authorized', 'captured', 'voided', 'declined']);
export type PaymentTxnState = z.infer<typeof PaymentTxnStateSchema>;

export const PaymentErrorSchema = z.enum([
  'TIMEOUT',
  'NOT_FOUND',
  'BAD_STATE',
  'BAD_ARGS',
  'BUSY',
  'INTERNAL',
]);
export type PaymentError = z.infer<typeof PaymentErrorSchema>;

/**
 * AUTH waits for the card; a declined card is a normal reply (`OK state=declined`), no card in time is
 * `ERR code=TIMEOUT`. STATUS finds a transaction by `txn` or by the agent's `ref` (the order id), which is how
 * the agent learns the fate of an authorization it sent just before a crash.
 */
export const PaymentRequestArgs = {
  PING: z.object({}).strict(),
  AUTH: z.object({ amount, cur: z.string().regex(/^[A-Z]{3}$/), ref: z.string().min(1).max(64) }).strict(),
  CAPTURE: z.object({ txn, amount: amount.optional() }).strict(),
  VOID: z.object({ txn }).strict(),
  STATUS: z
    .object({ txn: txn.optional(), ref: z.string().min(1).max(64).optional() })
    .strict()
    .refine((a) => a.txn !== undefined || a.ref !== undefined, 'txn or ref is required'),
} as const;
export type PaymentVerb = keyof typeof PaymentRequestArgs;

export const PaymentReplyArgs = {
  OK: z
    .object({
      txn: txn.optional(),
      state: PaymentTxnStateSchema.optional(),
      amount: amount.optional(),
      reason: z.string().max(64).optional(),
    })
    .strict(),
  ERR: z.object({ code: PaymentErrorSchema, msg: z.string().optional() }).strict(),
} as const;

export const PaymentEventArgs = {
  READY: z.object({ model: z.string() }).strict(),
  CARD: z.object({ state: z.enum(['presented', 'removed']) }).strict(),
} as const;

export const PaymentDialect: Dialect = {
  request: PaymentRequestArgs,
  reply: PaymentReplyArgs,
  event: PaymentEventArgs,
};
