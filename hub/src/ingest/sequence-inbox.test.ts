import { describe, expect, it } from 'vitest';
import { applyDeviceRecords, type SequenceState } from './sequence';
import { mergeNotes, noteOf, type SequenceNote, SequenceNoteSchema } from './sequence-inbox';
import type { DeviceSlots } from './sequence-store';

const A = '01JF00000000000000000000AA';
const B = '01JF00000000000000000000BB';

/** One transaction's slots for device `d`. */
function slots(
  seqs: { seq: number; epoch?: string }[],
  at: number,
  telemetry = true,
): Map<string, DeviceSlots> {
  return new Map([['d', { merchantId: 'm', seqs, telemetryAt: telemetry ? at : null, recordAt: at }]]);
}
const roundTrip = (note: SequenceNote) => SequenceNoteSchema.parse(JSON.parse(JSON.stringify(note)));

describe('sequence notes', () => {
  const batches = [
    {
      at: 10,
      seqs: [
        { seq: 1, epoch: A },
        { seq: 2, epoch: A },
        { seq: 5, epoch: A },
      ],
    },
    {
      at: 11,
      seqs: [
        { seq: 9, epoch: A },
        { seq: 3, epoch: A },
      ],
      telemetry: false,
    },
    {
      at: 12,
      seqs: [
        { seq: 4, epoch: A },
        { seq: 2, epoch: A },
      ],
    },
    {
      at: 13,
      seqs: [
        { seq: 1, epoch: B },
        { seq: 3, epoch: B },
        { seq: 10, epoch: A },
      ],
    },
  ];

  it('folded together give the state the transactions would have given one after the other', () => {
    let sequential: SequenceState = { lastSeq: 0, gaps: [], epoch: null };
    const reused: number[] = [];
    for (const b of batches) {
      const change = applyDeviceRecords(sequential, b.seqs);
      sequential = change.state;
      reused.push(...change.reused);
    }
    const notes = batches.map((b) => ({
      at: b.at,
      note: roundTrip(noteOf(slots(b.seqs, b.at, b.telemetry))),
    }));
    const merged = mergeNotes(notes).get('d');
    expect(merged).toMatchObject({ merchantId: 'm', recordAt: 13, telemetryAt: 13 });
    const folded = applyDeviceRecords({ lastSeq: 0, gaps: [], epoch: null }, merged?.seqs ?? []);
    expect(folded.state).toEqual(sequential);
    expect(folded.state).toEqual({ lastSeq: 3, gaps: [{ from: 2, to: 2 }], epoch: B });
    expect(folded.reused).toEqual(reused);
  });

  it('keep records without an epoch apart from those with one, and the latest telemetry time', () => {
    const note = roundTrip(noteOf(slots([{ seq: 7 }, { seq: 8, epoch: A }], 20, false)));
    expect(note.devices).toEqual([
      {
        d: 'd',
        m: 'm',
        t: false,
        g: [
          { e: null, s: [7] },
          { e: A, s: [8] },
        ],
      },
    ]);
    const merged = mergeNotes([
      { at: 20, note },
      { at: 15, note: roundTrip(noteOf(slots([{ seq: 6 }], 15))) },
    ]).get('d');
    expect(merged).toEqual({
      merchantId: 'm',
      seqs: [{ seq: 7 }, { seq: 8, epoch: A }, { seq: 6 }],
      telemetryAt: 15,
      recordAt: 20,
    });
  });
});
