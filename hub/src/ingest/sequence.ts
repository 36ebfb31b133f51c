/**
 * Per-device record sequence tracking. Records are numbered 1, 2, 3… by the device and may arrive out of
 * order (outbox priorities, resends). The tracker keeps the highest sequence seen and the ranges still
 * missing below it; a range shrinks or splits as its records arrive, and disappears when complete.
 * Numbering is per ledger epoch (envelope `epoch`): a device that starts a new ledger starts again at 1.
 */
/** `detectedAt` is kept through shrinking and splitting, so a gap's age is that of its first detection. */
export type Gap = { from: number; to: number; detectedAt?: number };

export interface SequenceState {
  lastSeq: number;
  gaps: Gap[];
  /** The device's current ledger epoch; null until a device sends one (older devices never do). */
  epoch?: string | null;
}

/** A device whose ledger epoch changed: its sequence restarted, with what the old epoch left behind. */
export type EpochChange = { from: string | null; to: string; lastSeq: number; missing: number };

export interface SequenceChange {
  state: SequenceState;
  /** Ranges that opened in this step (for metrics and events). */
  opened: Gap[];
  /** Sequences that filled a missing slot. */
  filled: number[];
  /** Sequences at or below lastSeq that were in no gap: a second record with a seen number. */
  reused: number[];
}

/** Applies newly stored sequences (any order) to a state; returns the next state without touching the input. */
export function applySequences(state: SequenceState, seqs: readonly number[]): SequenceChange {
  let lastSeq = state.lastSeq;
  let gaps = state.gaps.map((g) => ({ ...g }));
  const opened: Gap[] = [];
  const filled: number[] = [];
  const reused: number[] = [];
  for (const seq of [...seqs].sort((a, b) => a - b)) {
    if (seq <= 0) continue;
    if (seq > lastSeq) {
      if (seq > lastSeq + 1) {
        const gap = { from: lastSeq + 1, to: seq - 1 };
        gaps.push(gap);
        opened.push({ ...gap });
      }
      lastSeq = seq;
      continue;
    }
    const index = gaps.findIndex((g) => g.from <= seq && seq <= g.to);
    const gap = gaps[index];
    if (!gap) {
      reused.push(seq);
      continue;
    }
    filled.push(seq);
    const rest: Gap[] = [];
    if (gap.from < seq) rest.push({ ...gap, to: seq - 1 });
    if (seq < gap.to) rest.push({ ...gap, from: seq + 1 });
    gaps = [...gaps.slice(0, index), ...rest, ...gaps.slice(index + 1)];
  }
  gaps.sort((a, b) => a.from - b.from);
  return { state: { ...state, lastSeq, gaps }, opened, filled, reused };
}

/** Number of sequences still missing. */
export function missingCount(gaps: readonly Gap[]): number {
  return gaps.reduce((n, g) => n + (g.to - g.from + 1), 0);
}

export interface DeviceSequenceChange extends SequenceChange {
  /** Set when the records start a newer epoch (the sequence restarts from it). */
  epochChange?: EpochChange;
  /** Sequences of an epoch older than the current one: stored, but they no longer move the state. */
  staleEpoch: number[];
}

/**
 * Applies one device's records, epoch-aware. Records without an epoch (older devices) or of the current epoch
 * are sequenced; a device that sends its first epoch keeps its state (an upgraded agent continues its
 * ledger); a newer epoch (ULIDs sort by creation time) restarts the state and is reported, never confused
 * with old records; records of an older epoch are left out of the sequence and reported.
 */
export function applyDeviceRecords(
  state: SequenceState,
  records: readonly { seq: number; epoch?: string }[],
): DeviceSequenceChange {
  const byEpoch = new Map<string | undefined, number[]>();
  for (const r of records) byEpoch.set(r.epoch, [...(byEpoch.get(r.epoch) ?? []), r.seq]);
  const epochs = [...byEpoch.keys()].sort((a, b) => (a ?? '').localeCompare(b ?? ''));
  let current: SequenceState & { epoch: string | null } = { ...state, epoch: state.epoch ?? null };
  const out: DeviceSequenceChange = { state: current, opened: [], filled: [], reused: [], staleEpoch: [] };
  for (const epoch of epochs) {
    const seqs = byEpoch.get(epoch) ?? [];
    if (epoch !== undefined && epoch !== current.epoch) {
      if (current.epoch === null) current = { ...current, epoch };
      else if (epoch < current.epoch) {
        out.staleEpoch.push(...seqs);
        continue;
      } else {
        out.epochChange = {
          from: current.epoch,
          to: epoch,
          lastSeq: current.lastSeq,
          missing: missingCount(current.gaps),
        };
        current = { lastSeq: 0, gaps: [], epoch };
      }
    }
    const change = applySequences(current, seqs);
    current = { ...change.state, epoch: current.epoch };
    out.opened.push(...change.opened);
    out.filled.push(...change.filled);
    out.reused.push(...change.reused);
  }
  out.state = current;
  return out;
}
