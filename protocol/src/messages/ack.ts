import { z } from 'zod';
import { UlidSchema } from '../ids';
import { Limits } from '../limits';

/**
 * Application-level acknowledgement: the hub sends it only after the records are durably stored.
 * `rejected` messages were refused for good (invalid, too large, forbidden topic…); the device drops such
 * records and must not resend them. A refused `batch` is named by its own id: none of its records was read.
 */
export const AckSchema = z.object({
  ids: z.array(UlidSchema).max(Limits.ackIds),
  rejected: z
    .array(z.object({ id: UlidSchema, code: z.string().max(64), message: z.string().max(200).optional() }))
    .max(Limits.ackIds)
    .default([]),
});
export type Ack = z.infer<typeof AckSchema>;
