import { describe, expect, it } from 'vitest';
import { DEFAULT_BINS, defaultBinOf, MaterialCodeSchema } from '../common';
import { MaterialLevelsSchema } from './records';

describe('materials message', () => {
  it('still parses a five-kind report without bin numbers', () => {
    const old = {
      levels: [
        { material: 'water', level: 3420, capacity: 5000, unit: 'ml' },
        { material: 'waste', level: 38, capacity: 100, unit: 'pct' },
      ],
      at: 1,
    };
    const parsed = MaterialLevelsSchema.parse(old);
    expect(parsed.levels.map((l) => l.bin)).toEqual([undefined, undefined]);
    expect(parsed.levels.map((l) => defaultBinOf(l.material))).toEqual([1, 5]);
  });

  it('parses levels per bin with any bound material code', () => {
    const parsed = MaterialLevelsSchema.parse({
      levels: [{ bin: 3, material: 'oat_milk', level: 950, capacity: 1200, unit: 'ml' }],
      at: 1,
    });
    expect(parsed.levels[0]).toMatchObject({ bin: 3, material: 'oat_milk' });
    expect(defaultBinOf('oat_milk')).toBeUndefined();
  });

  it('refuses bad bin numbers, codes and units', () => {
    const level = { bin: 6, material: 'chocolate', level: 1, capacity: 2, unit: 'g' };
    const parse = (l: object) =>
      MaterialLevelsSchema.safeParse({ levels: [{ ...level, ...l }], at: 1 }).success;
    expect(parse({})).toBe(true);
    expect(parse({ bin: 0 })).toBe(false);
    expect(parse({ bin: 1.5 })).toBe(false);
    expect(parse({ material: 'Chocolate' })).toBe(false);
    expect(parse({ material: 'x' })).toBe(false);
    expect(parse({ unit: 'kg' })).toBe(false);
    expect(MaterialCodeSchema.safeParse('choc/late').success).toBe(false);
  });

  it('binds bins 1 to 5 to the five kinds by default', () => {
    expect(DEFAULT_BINS.map((b) => `${b.bin}:${b.material}:${b.unit}`)).toEqual([
      '1:water:ml',
      '2:beans:g',
      '3:milk:ml',
      '4:cups:pcs',
      '5:waste:pct',
    ]);
  });
});
