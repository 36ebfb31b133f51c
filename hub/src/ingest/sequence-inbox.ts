import { ulid } from '@crema/protocol';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import type { QueuedRecord } from './rows';
import {
  type DeviceSlots,
  type RejectedSeq,
  type SequenceSink,
  type SequenceUpdate,
  slotsByDevice,
} from './sequence-store';

/** The numbers one ingest transaction stored, per device and epoch (`sequence_inbox.body`). */
export const SequenceNoteSchema = z.object({
  devices: z.array(
    z.object({
      d: z.string(),
      m: z.string(),
      /** A telemetry record was among them. */
      t: z.boolean(),
      g: z.array(z.object({ e: z.string().nullable(), s: z.array(z.number().int()) })),
    }),
  ),
});
export type SequenceNote = z.infer<typeof SequenceNoteSchema>;

/**
 * The ingest transaction's side when several hub processes share the devices: the records' numbers are noted in
 * `sequence_inbox` (one inserted row, never an update), so no two hubs' commits wait for the same rows; the
 * sequencer folds the notes into `device_state` and `sequence_gaps` off the commit path. Nothing to report here:
 * the sequencer reports gaps, epochs and numbers used twice once it has folded them.
 */
export class SequenceInbox implements SequenceSink {
  async apply(
    trx: Transaction<Database>,
    records: readonly QueuedRecord[],
    now: number,
    rejected: readonly RejectedSeq[] = [],
  ): Promise<SequenceUpdate[]> {
    const byDevice = slotsByDevice(records, rejected, now);
    if (byDevice.size === 0) return [];
    await trx
      .insertInto('sequence_inbox')
      .values({ id: ulid(), at: now, body: JSON.stringify(noteOf(byDevice)) })
      .execute();
    return [];
  }

  commit(): void {}

  discard(): void {}
}

/** The note of one transaction's slots (`sequence_inbox.body`). */
export function noteOf(byDevice: ReadonlyMap<string, DeviceSlots>): SequenceNote {
  const devices: SequenceNote['devices'] = [];
  for (const [deviceId, slots] of byDevice) {
    const groups = new Map<string | null, number[]>();
    for (const { seq, epoch } of slots.seqs) {
      const key = epoch ?? null;
      const list = groups.get(key);
      if (list) list.push(seq);
      else groups.set(key, [seq]);
    }
    devices.push({
      d: deviceId,
      m: slots.merchantId,
      t: slots.telemetryAt !== null,
      g: [...groups].map(([e, s]) => ({ e, s })),
    });
  }
  return { devices };
}

/** Merges notes (each received at `at`) into slots per device, as one transaction would have had them. */
export function mergeNotes(notes: readonly { at: number; note: SequenceNote }[]): Map<string, DeviceSlots> {
  const byDevice = new Map<string, DeviceSlots>();
  for (const { at, note } of notes) {
    for (const device of note.devices) {
      let slots = byDevice.get(device.d);
      if (!slots) {
        slots = { merchantId: device.m, seqs: [], telemetryAt: null, recordAt: at };
        byDevice.set(device.d, slots);
      }
      slots.recordAt = Math.max(slots.recordAt, at);
      if (device.t) slots.telemetryAt = Math.max(slots.telemetryAt ?? at, at);
      for (const group of device.g) {
        for (const seq of group.s) slots.seqs.push(group.e === null ? { seq } : { seq, epoch: group.e });
      }
    }
  }
  return byDevice;
}
