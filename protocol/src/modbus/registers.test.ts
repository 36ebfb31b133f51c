import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Boards,
  decodeFaultBits,
  decodeRegister,
  encodeFaultBits,
  encodeRegister,
  type FaultBit,
  FaultBits,
  type RegisterDef,
  Registers,
  unitIdOf,
} from './registers';

const counter32: RegisterDef = { ...Registers.brewCount };
const signed32: RegisterDef = { ...Registers.brewCount, signed: true, name: 'offset' };

describe('register map', () => {
  it('has no two registers at the same place', () => {
    const seen = new Map<string, string>();
    for (const [key, r] of Object.entries(Registers)) {
      for (let w = 0; w < r.words; w++) {
        const place = `${r.board}/${r.table}/${r.address + w}`;
        expect(seen.get(place), `${key} overlaps`).toBeUndefined();
        seen.set(place, key);
      }
    }
  });

  it('uses unit ids 1 to 3, one per board, and single-word bits for coils and discrete inputs', () => {
    expect(
      Object.values(Boards)
        .map((b) => b.unitId)
        .sort(),
    ).toEqual([1, 2, 3]);
    expect(unitIdOf(Registers.boilerTemp)).toBe(1);
    expect(unitIdOf(Registers.milkLevel)).toBe(2);
    expect(unitIdOf(Registers.doorOpen)).toBe(3);
    for (const r of Object.values(Registers)) {
      if (r.table === 'coil' || r.table === 'discrete') expect(r.words, r.name).toBe(1);
    }
  });
});

describe('decodeRegister / encodeRegister', () => {
  it('scales unsigned 16-bit registers', () => {
    expect(decodeRegister(Registers.pressure, [912])).toBe(9.12);
    expect(encodeRegister(Registers.pressure, 9.12)).toEqual([912]);
    expect(decodeRegister(Registers.waterLevel, [65535])).toBe(65535);
    expect(decodeRegister(Registers.wasteLevel, [385])).toBe(38.5);
  });

  it('reads signed registers as two’s complement', () => {
    expect(decodeRegister(Registers.boilerTemp, [925])).toBe(92.5);
    expect(decodeRegister(Registers.boilerTemp, [0xffce])).toBe(-5);
    expect(decodeRegister(Registers.boilerTemp, [0x8000])).toBe(-3276.8);
    expect(encodeRegister(Registers.boilerTemp, -5)).toEqual([0xffce]);
    expect(encodeRegister(Registers.boilerTemp, 92.5)).toEqual([925]);
  });

  it('reads 32-bit registers high word first, also at and above 2^31', () => {
    expect(decodeRegister(counter32, [0x0001, 0x0002])).toBe(65538);
    expect(encodeRegister(counter32, 65538)).toEqual([1, 2]);
    expect(decodeRegister(counter32, [0x8000, 0x0000])).toBe(2 ** 31);
    expect(decodeRegister(counter32, [0xffff, 0xffff])).toBe(2 ** 32 - 1);
    expect(decodeRegister(signed32, [0xffff, 0xffff])).toBe(-1);
    expect(encodeRegister(signed32, -2)).toEqual([0xffff, 0xfffe]);
  });

  it('clamps values outside the register range', () => {
    expect(encodeRegister(Registers.waterLevel, -10)).toEqual([0]);
    expect(encodeRegister(Registers.waterLevel, 1e9)).toEqual([65535]);
    expect(encodeRegister(Registers.boilerTemp, 1e6)).toEqual([0x7fff]);
    expect(encodeRegister(counter32, 2 ** 40)).toEqual([0xffff, 0xffff]);
  });

  it('round-trips every register over its raw range', () => {
    for (const def of [...Object.values(Registers), signed32]) {
      const span = def.words === 2 ? 2 ** 32 : 2 ** 16;
      const raw = def.signed
        ? fc.integer({ min: -span / 2, max: span / 2 - 1 })
        : fc.integer({ min: 0, max: span - 1 });
      fc.assert(
        fc.property(raw, (r) => {
          const value = decodeRegister(def, encodeRegister(def, r * def.scale));
          expect(value).toBeCloseTo(r * def.scale, 3);
          for (const w of encodeRegister(def, value)) {
            expect(Number.isInteger(w) && w >= 0 && w <= 0xffff).toBe(true);
          }
        }),
        { numRuns: 50 },
      );
    }
  });
});

describe('fault bits', () => {
  it('decodes and encodes single bits and combinations', () => {
    expect(decodeFaultBits(0)).toEqual([]);
    expect(decodeFaultBits(1 << FaultBits.grinder_jam)).toEqual(['grinder_jam']);
    expect(decodeFaultBits(0b1_0100_0001)).toEqual(['water_empty', 'boiler_overheat', 'door_open']);
    expect(encodeFaultBits(['door_open', 'water_empty'])).toBe(0b1_0000_0001);
    expect(decodeFaultBits(0x8000)).toEqual([]);
  });

  it('round-trips any set of faults', () => {
    const all = Object.keys(FaultBits) as FaultBit[];
    fc.assert(
      fc.property(fc.subarray(all), (faults) => {
        expect(decodeFaultBits(encodeFaultBits(faults))).toEqual(faults);
      }),
    );
  });
});
