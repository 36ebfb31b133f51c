import { seededRandom } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { FaultRegistry } from '../model/faults';
import { Machine } from '../model/machine';
import { MachineSpecs } from '../model/specs';
import { ManualClock } from '../time/manual-clock';
import { crc16Modbus } from './crc';
import { handlePdu, requestFrameLength } from './pdu';
import { RegisterBank } from './register-bank';

const bank = () =>
  new RegisterBank(
    new Machine({
      spec: MachineSpecs['cm-1']!,
      clock: new ManualClock(),
      random: seededRandom(1),
      faults: new FaultRegistry(),
      levels: { cups: 12 },
    }),
  );

describe('Modbus PDU handling', () => {
  it('computes CRC-16/MODBUS', () => {
    expect(crc16Modbus(new TextEncoder().encode('123456789'))).toBe(0x4b37);
  });

  it('reads registers and coils, and answers unknown functions and bad quantities with exceptions', () => {
    const b = bank();
    expect([...handlePdu(b, 2, Buffer.from([4, 0, 3, 0, 1]))!]).toEqual([4, 2, 0, 12]);
    expect([...handlePdu(b, 1, Buffer.from([1, 0, 0, 0, 4]))!]).toEqual([1, 1, 0b0001]);
    expect([...handlePdu(b, 1, Buffer.from([8, 0, 0, 0, 0]))!]).toEqual([0x88, 1]);
    expect([...handlePdu(b, 1, Buffer.from([3, 0, 0, 0, 200]))!]).toEqual([0x83, 3]);
    expect([...handlePdu(b, 1, Buffer.from([5, 0, 0, 0x12, 0x34]))!]).toEqual([0x85, 3]);
    expect(handlePdu(b, 9, Buffer.from([4, 0, 0, 0, 1]))).toBeUndefined();
  });

  it('knows the frame length of each request from its first bytes', () => {
    expect(requestFrameLength(Buffer.from([1, 3]))).toBe(8);
    expect(requestFrameLength(Buffer.from([1, 16, 0, 0, 0, 2]))).toBeUndefined();
    expect(requestFrameLength(Buffer.from([1, 16, 0, 0, 0, 2, 4]))).toBe(13);
    expect(requestFrameLength(Buffer.from([1, 43]))).toBeUndefined();
  });
});
