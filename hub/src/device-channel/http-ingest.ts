import type { Clock } from '@crema/protocol';
import { type Ack, type Envelope, UlidSchema } from '@crema/protocol';
import { HubError } from '../errors';

/** The part of the MQTT gateway the HTTP fallback feeds: the one ingest path, and the acks after commit. */
export interface UplinkPort {
  handleUplink(envelope: Envelope): void;
  onAck(listener: (deviceId: string, ack: Ack) => void): () => void;
}

/**
 * Pushes a `batch` through the same ingest as MQTT (validation record by record, de-duplication, batched
 * write) and resolves with the ack of its records once they are committed: stored and duplicate ids in
 * `ids`, refused ones in `rejected`. Records without a readable id cannot be named in an ack and are not
 * waited for. When the deadline passes first, the ack holds what was committed by then (the device resends
 * the rest); with nothing committed at all it fails with UNAVAILABLE, so the device backs off.
 */
export function ingestBatch(
  port: UplinkPort,
  clock: Clock,
  batch: Envelope<'batch'>,
  timeoutMs: number,
): Promise<Ack> {
  const deviceId = batch.deviceId;
  const expected = new Set<string>();
  for (const record of batch.body.records) {
    const id = (record as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && UlidSchema.safeParse(id).success) expected.add(id);
  }
  const ids = new Set<string>();
  const rejected = new Map<string, Ack['rejected'][number]>();
  return new Promise<Ack>((resolve, reject) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      off();
      clock.clearTimeout(timer);
      if (expected.size > 0 && ids.size === 0 && rejected.size === 0) {
        reject(new HubError('UNAVAILABLE', 'the records were not stored in time; send them again later'));
        return;
      }
      resolve({ ids: [...ids], rejected: [...rejected.values()] });
    };
    const off = port.onAck((from, ack) => {
      if (from !== deviceId) return;
      for (const id of ack.ids) if (expected.has(id) && !rejected.has(id)) ids.add(id);
      for (const r of ack.rejected) if (expected.has(r.id) && !ids.has(r.id)) rejected.set(r.id, r);
      if (ids.size + rejected.size >= expected.size) finish();
    });
    const timer = clock.setTimeout(finish, timeoutMs);
    port.handleUplink(batch);
    if (expected.size === 0) finish();
  });
}
