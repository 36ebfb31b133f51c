import type { Transaction } from 'kysely';
import type { Database } from '../db/database';
import { insertRows } from './bulk-insert';
import type { QueuedRecord } from './rows';
import { applyDeviceRecords, type EpochChange, type Gap, type SequenceState } from './sequence';
import { chunkSize } from './store';

// Every batch upserts its devices' state: written through insertRows, like the ingest tables (see there why).
const STATE_COLUMNS = [
  'device_id',
  'merchant_id',
  'last_seq',
  'ledger_epoch',
  'last_record_at',
  'last_telemetry_at',
] as const;
const STATE_UPSERT =
  'on conflict ("device_id") do update set "last_seq" = excluded."last_seq", ' +
  '"ledger_epoch" = excluded."ledger_epoch", "last_record_at" = excluded."last_record_at", ' +
  '"last_telemetry_at" = coalesce(excluded."last_telemetry_at", "device_state"."last_telemetry_at")';

type Trx = Transaction<Database>;

export interface SequenceUpdate {
  deviceId: string;
  merchantId: string;
  state: SequenceState;
  opened: Gap[];
  reused: number[];
  epochChange?: EpochChange;
  staleEpoch: number[];
}

/**
 * A numbered record the hub refused for good (acknowledged as rejected, so the device drops it): its number
 * is accounted for, so it neither leaves a gap that never closes nor opens one.
 */
export interface RejectedSeq {
  deviceId: string;
  merchantId: string;
  seq: number;
  epoch?: string;
}

/** One device's numbered slots of one transaction (or of several notes, merged), with when they arrived. */
export interface DeviceSlots {
  merchantId: string;
  seqs: { seq: number; epoch?: string }[];
  /** Latest arrival of a stored telemetry record, or null. */
  telemetryAt: number | null;
  /** Latest arrival of any slot. */
  recordAt: number;
}

/** Groups stored records and refused slots by device. */
export function slotsByDevice(
  records: readonly QueuedRecord[],
  rejected: readonly RejectedSeq[],
  now: number,
): Map<string, DeviceSlots> {
  const byDevice = new Map<string, DeviceSlots>();
  const entryOf = (deviceId: string, merchantId: string): DeviceSlots => {
    let entry = byDevice.get(deviceId);
    if (!entry) {
      entry = { merchantId, seqs: [], telemetryAt: null, recordAt: now };
      byDevice.set(deviceId, entry);
    }
    return entry;
  };
  for (const r of records) {
    const entry = entryOf(r.deviceId, r.merchantId);
    entry.seqs.push({ seq: r.envelope.seq, ...(r.envelope.epoch ? { epoch: r.envelope.epoch } : {}) });
    if (r.envelope.type === 'telemetry') entry.telemetryAt = now;
  }
  for (const r of rejected) {
    entryOf(r.deviceId, r.merchantId).seqs.push({ seq: r.seq, ...(r.epoch ? { epoch: r.epoch } : {}) });
  }
  return byDevice;
}

/**
 * What an ingest transaction does with its records' numbers: a `SequenceBook` folds them into the devices'
 * sequence state at once (one hub process); a `SequenceInbox` notes them for the sequencer (several).
 */
export interface SequenceSink {
  apply(
    trx: Trx,
    records: readonly QueuedRecord[],
    now: number,
    rejected?: readonly RejectedSeq[],
  ): Promise<SequenceUpdate[]>;
  /** After the commit: the updates are durable. */
  commit(updates: readonly SequenceUpdate[]): void;
  /** After a rollback: whatever was assumed about these devices is void. */
  discard(deviceIds: Iterable<string>): void;
}

/**
 * Persists per-device sequence state (device_state.last_seq + sequence_gaps) inside the ingest transaction.
 * The hub is the only writer, so states are cached; the cache is only updated after a commit (`commit`) and
 * dropped for the devices of a failed transaction (`discard`), so it never runs ahead of the database.
 */
export class SequenceBook implements SequenceSink {
  private readonly cache = new Map<string, SequenceState>();

  /**
   * `shared`: other processes may write the same devices' sequences (the sequencer, which might overlap with
   * another for a moment when a lease changes hands). Then nothing is cached: each transaction locks its devices'
   * `device_state` rows (in id order, so two never deadlock on them) and reads their state afresh.
   */
  constructor(private readonly shared = false) {}

  apply(
    trx: Trx,
    records: readonly QueuedRecord[],
    now: number,
    rejected: readonly RejectedSeq[] = [],
  ): Promise<SequenceUpdate[]> {
    return this.applySlots(trx, slotsByDevice(records, rejected, now), now);
  }

  /** Folds slots grouped by device into their state; `now` dates the gaps that open. */
  async applySlots(
    trx: Trx,
    byDevice: ReadonlyMap<string, DeviceSlots>,
    now: number,
  ): Promise<SequenceUpdate[]> {
    if (byDevice.size === 0) return [];
    if (this.shared) {
      const ids = [...byDevice.keys()].sort();
      await lockDevices(
        trx,
        ids.map((id) => ({ device_id: id, merchant_id: byDevice.get(id)?.merchantId ?? '' })),
      );
      this.discard(ids);
    }
    await this.load(
      trx,
      [...byDevice.keys()].filter((id) => !this.cache.has(id)),
    );

    const updates: SequenceUpdate[] = [];
    const gapsChanged: SequenceUpdate[] = [];
    for (const [deviceId, { merchantId, seqs }] of byDevice) {
      const before = this.cache.get(deviceId) ?? { lastSeq: 0, gaps: [], epoch: null };
      const change = applyDeviceRecords(before, seqs);
      for (const gap of change.opened) gap.detectedAt = now;
      for (const gap of change.state.gaps) gap.detectedAt ??= now;
      const update = {
        deviceId,
        merchantId,
        state: change.state,
        opened: change.opened,
        reused: change.reused,
        staleEpoch: change.staleEpoch,
        ...(change.epochChange ? { epochChange: change.epochChange } : {}),
      };
      updates.push(update);
      // A new epoch drops the old epoch's gaps: they belong to a ledger that no longer sends.
      if (change.opened.length > 0 || change.filled.length > 0 || change.epochChange) {
        gapsChanged.push(update);
      }
    }

    const changedIds = gapsChanged.map((u) => u.deviceId);
    for (let i = 0; i < changedIds.length; i += 500) {
      await trx
        .deleteFrom('sequence_gaps')
        .where('device_id', 'in', changedIds.slice(i, i + 500))
        .execute();
    }
    const gapRows = gapsChanged.flatMap((u) =>
      u.state.gaps.map((g) => ({
        device_id: u.deviceId,
        merchant_id: u.merchantId,
        from_seq: g.from,
        to_seq: g.to,
        detected_at: g.detectedAt ?? now,
      })),
    );
    for (let i = 0; i < gapRows.length; i += 1000) {
      await trx
        .insertInto('sequence_gaps')
        .values(gapRows.slice(i, i + 1000))
        .execute();
    }

    const stateRows = updates.map((u) => ({
      device_id: u.deviceId,
      merchant_id: u.merchantId,
      last_seq: u.state.lastSeq,
      ledger_epoch: u.state.epoch ?? null,
      last_record_at: byDevice.get(u.deviceId)?.recordAt ?? now,
      last_telemetry_at: byDevice.get(u.deviceId)?.telemetryAt ?? null,
    }));
    for (let i = 0, size = 0; i < stateRows.length; i += size) {
      size = chunkSize(stateRows.length - i, 1000);
      await insertRows(trx, 'device_state', STATE_COLUMNS, stateRows.slice(i, i + size), STATE_UPSERT);
    }
    return updates;
  }

  commit(updates: readonly SequenceUpdate[]): void {
    for (const u of updates) this.cache.set(u.deviceId, u.state);
  }

  discard(deviceIds: Iterable<string>): void {
    for (const id of deviceIds) this.cache.delete(id);
  }

  private async load(trx: Trx, deviceIds: string[]): Promise<void> {
    for (let i = 0; i < deviceIds.length; i += 500) {
      const ids = deviceIds.slice(i, i + 500);
      const states = await trx
        .selectFrom('device_state')
        .select(['device_id', 'last_seq', 'ledger_epoch'])
        .where('device_id', 'in', ids)
        .execute();
      const gaps = await trx
        .selectFrom('sequence_gaps')
        .select(['device_id', 'from_seq', 'to_seq', 'detected_at'])
        .where('device_id', 'in', ids)
        .orderBy('from_seq')
        .execute();
      for (const id of ids) this.cache.set(id, { lastSeq: 0, gaps: [], epoch: null });
      for (const s of states) {
        this.cache.set(s.device_id, { lastSeq: Number(s.last_seq), gaps: [], epoch: s.ledger_epoch });
      }
      for (const g of gaps) {
        this.cache.get(g.device_id)?.gaps.push({ from: g.from_seq, to: g.to_seq, detectedAt: g.detected_at });
      }
    }
  }
}

/** Creates missing `device_state` rows, then locks them all `FOR UPDATE` in device id order. */
async function lockDevices(trx: Trx, rows: { device_id: string; merchant_id: string }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await trx
      .insertInto('device_state')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.column('device_id').doNothing())
      .execute();
  }
  for (let i = 0; i < rows.length; i += 500) {
    await trx
      .selectFrom('device_state')
      .select('device_id')
      .where(
        'device_id',
        'in',
        rows.slice(i, i + 500).map((r) => r.device_id),
      )
      .orderBy('device_id')
      .forUpdate()
      .execute();
  }
}
