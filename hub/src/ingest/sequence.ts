/**
 * Per-device record sequence tracking. Records are numbered 1, 2, 3… by the device and may arrive out of
 * order (outbox priorities, resends). The tracker keeps the highest sequence seen and the ranges still
 * missing below it; a range shrinks or splits as its records arrive, and disappears when complete.
 */
/** `detectedAt` is kept through shrinking and splitting, so a gap's age is that of its first detection. */
export type Gap = { from: number; to: number; detectedAt?: number };

export interface SequenceState {
  lastSeq: number;
  gaps: Gap[];
}

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
  return { state: { lastSeq, gaps }, opened, filled, reused };
}

/** Number of sequences still missing. */
export function missingCount(gaps: readonly Gap[]): number {
  return gaps.reduce((n, g) => n + (g.to - g.from + 1), 0);
}
