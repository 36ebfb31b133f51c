import { describe, expect, it } from 'vitest';
import { applyDeviceRecords, applySequences, missingCount } from './sequence';

describe('applySequences', () => {
  const empty = { lastSeq: 0, gaps: [] };

  it('keeps contiguous sequences gap-free', () => {
    const { state, opened } = applySequences(empty, [1, 2, 3]);
    expect(state).toEqual({ lastSeq: 3, gaps: [] });
    expect(opened).toEqual([]);
  });

  it('opens a gap when a sequence is skipped and closes it when the missing ones arrive', () => {
    const first = applySequences(empty, [1, 2, 5]);
    expect(first.state).toEqual({ lastSeq: 5, gaps: [{ from: 3, to: 4 }] });
    expect(first.opened).toEqual([{ from: 3, to: 4 }]);
    const second = applySequences(first.state, [4]);
    expect(second.state.gaps).toEqual([{ from: 3, to: 3 }]);
    expect(second.filled).toEqual([4]);
    const third = applySequences(second.state, [3]);
    expect(third.state).toEqual({ lastSeq: 5, gaps: [] });
  });

  it('splits a gap when a record in its middle arrives first', () => {
    const { state } = applySequences({ lastSeq: 10, gaps: [{ from: 2, to: 9 }] }, [5]);
    expect(state.gaps).toEqual([
      { from: 2, to: 4 },
      { from: 6, to: 9 },
    ]);
    expect(missingCount(state.gaps)).toBe(7);
  });

  it('orders out-of-order arrivals within one batch before judging them', () => {
    const { state, opened } = applySequences(empty, [3, 1, 2]);
    expect(state).toEqual({ lastSeq: 3, gaps: [] });
    expect(opened).toEqual([]);
  });

  it('reports a sequence number that was already used, without changing the gaps', () => {
    const change = applySequences({ lastSeq: 4, gaps: [] }, [2]);
    expect(change.reused).toEqual([2]);
    expect(change.state).toEqual({ lastSeq: 4, gaps: [] });
  });

  it('does not modify its input', () => {
    const input = { lastSeq: 5, gaps: [{ from: 2, to: 3 }] };
    applySequences(input, [2, 3, 9]);
    expect(input).toEqual({ lastSeq: 5, gaps: [{ from: 2, to: 3 }] });
  });
});

describe('applyDeviceRecords (per ledger epoch)', () => {
  const A = '01JF00000000000000000000AA';
  const B = '01JF00000000000000000000BB';
  const at = (epoch: string | undefined, ...seqs: number[]) => seqs.map((seq) => ({ seq, epoch }));

  it('adopts a first epoch without restarting, then restarts on a newer one with what the old one left', () => {
    const first = applyDeviceRecords({ lastSeq: 5, gaps: [{ from: 3, to: 3 }] }, at(A, 6));
    expect(first.state).toEqual({ lastSeq: 6, gaps: [{ from: 3, to: 3 }], epoch: A });
    expect(first.epochChange).toBeUndefined();
    const second = applyDeviceRecords(first.state, [...at(B, 1, 2), ...at(A, 7)]);
    expect(second.epochChange).toEqual({ from: A, to: B, lastSeq: 7, missing: 1 });
    expect(second.state).toEqual({ lastSeq: 2, gaps: [], epoch: B });
    expect(second.reused).toEqual([]);
  });

  it('leaves records of an older epoch out of the sequence, and reports numbers used twice', () => {
    const change = applyDeviceRecords({ lastSeq: 4, gaps: [], epoch: B }, [...at(A, 9), ...at(B, 2)]);
    expect(change.staleEpoch).toEqual([9]);
    expect(change.reused).toEqual([2]);
    expect(change.state).toEqual({ lastSeq: 4, gaps: [], epoch: B });
  });
});
