import { z } from 'zod';
import { UlidSchema } from '../ids';
import { Limits } from '../limits';

/**
 * Application-level acknowledgement: the hub sends it only after the records are durably stored.
 * `rejected` records were refused for good (invalid); the device drops them and must not resend.
 */
export const AckSchema = z.object({
  ids: z.array(UlidSchema).max(Limits.ackIds),
  rejected: z
    .array(z.object({ id: UlidSchema, code: z.string().max(64), message: z.string().max(200).optional() }))
    .max(Limits.ackIds)
    .default([]),
});
export type Ack = z.infer<typeof AckSchema>;
