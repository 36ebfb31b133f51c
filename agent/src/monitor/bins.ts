import {
  type BinBinding,
  BinBindingsSchema,
  type BrewerStatus,
  DEFAULT_BINS,
  type RegisterKey,
} from '@crema/protocol';
import type { AuxSnapshot } from '../drivers/modbus/types';

/**
 * The machine's bins: bin number → material. Defaults to bins 1 to 5 holding water, beans, milk, cups and
 * waste; rebinding a bin (the milk line to `oat_milk`) makes recipes naming that material sellable here.
 */
export const BinsConfigSchema = BinBindingsSchema.default(DEFAULT_BINS.map((b) => ({ ...b })));

/**
 * Sensors of the physical bins of this machine model, by bin number: level and capacity registers, and the
 * brewer STATUS field used when the supply board is unreachable. The grounds bin is a percentage of 100.
 */
const SENSORS: Record<
  number,
  { level: RegisterKey; capacity: RegisterKey | number; status?: 'water_ml' | 'beans_g' | 'milk_ml' | 'cups' }
> = {
  1: { level: 'waterLevel', capacity: 'waterCapacity', status: 'water_ml' },
  2: { level: 'beansLevel', capacity: 'beansCapacity', status: 'beans_g' },
  3: { level: 'milkLevel', capacity: 'milkCapacity', status: 'milk_ml' },
  4: { level: 'cupsLevel', capacity: 'cupsCapacity', status: 'cups' },
  5: { level: 'wasteLevel', capacity: 100 },
};

export type BinLevel = BinBinding & { level: number | undefined; capacity: number | undefined };

export type { BinBinding };

/** The binding in force; `replace` swaps it live (a `set_config` from the hub with `settings.bins`). */
export class Bins {
  private byMaterial = new Map<string, BinBinding>();
  private current: readonly BinBinding[] = [];

  constructor(bindings: readonly BinBinding[] = BinsConfigSchema.parse(undefined)) {
    this.replace(bindings);
  }

  get bindings(): readonly BinBinding[] {
    return this.current;
  }

  replace(bindings: readonly BinBinding[]): void {
    this.current = bindings;
    this.byMaterial = new Map(bindings.map((b) => [b.material, b]));
  }

  /** The bin a material is drawn from, or undefined when this machine has none bound to it. */
  binOf(material: string): BinBinding | undefined {
    return this.byMaterial.get(material);
  }

  /** The fault a bin's sensor raises when it runs dry (named after the bin's default kind). */
  emptyFault(bin: number): string | undefined {
    return DEFAULT_BINS.find((d) => d.bin === bin && d.material !== 'waste')?.material.concat('_empty');
  }

  /** Each bin's level and capacity, from its sensor; undefined when the bin has none or it is unreadable. */
  levels(snapshot: AuxSnapshot, status?: BrewerStatus): BinLevel[] {
    const v = snapshot.values;
    return this.current.map((b) => {
      const s = SENSORS[b.bin];
      const raw = s ? (v[s.level] ?? (s.status ? status?.[s.status] : undefined)) : undefined;
      const cap =
        b.capacity ?? (s ? (typeof s.capacity === 'number' ? s.capacity : v[s.capacity]) : undefined);
      return { ...b, level: raw === undefined ? undefined : Math.max(0, raw), capacity: cap };
    });
  }

  /** Level per material code, as the preconditions compare it with a recipe's consumption. */
  levelsByMaterial(snapshot: AuxSnapshot, status?: BrewerStatus): Record<string, number | undefined> {
    return Object.fromEntries(this.levels(snapshot, status).map((l) => [l.material, l.level]));
  }
}
