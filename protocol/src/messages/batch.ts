import { z } from 'zod';
import { Limits } from '../limits';

/**
 * A batch of record envelopes, for backlog drain over MQTT and for the HTTP fallback. Records are checked one
 * by one (splitBatch) so that one bad record spoils nothing; the ack names each stored or rejected id.
 */
export const BatchSchema = z.object({ records: z.array(z.unknown()).min(1).max(Limits.batchRecords) });
export type Batch = z.infer<typeof BatchSchema>;
