import {
  type BinBinding,
  BinBindingsSchema,
  type BrewerStatus,
  DEFAULT_BINS,
  type RegisterKey,
} from '@crema/protocol';
import type { AuxSnapshot } from '../drivers/modbus/types';
import { AgentError } from '../errors';

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

/** Settings key of the accounted levels of unsensed bins. */
export const BIN_LEVELS_KEY = 'bins.levels';

/** Where the levels of unsensed bins are kept across restarts (the agent's settings store). */
export type TrackedLevelsStore = {
  load(): Record<string, number> | undefined;
  save(levels: Record<string, number>): void;
};

/**
 * The binding in force; `replace` swaps it live (a `set_config` from the hub with `settings.bins`). Bins 1 to 5
 * are read from their sensors. Bins without one (6 and up: powder and syrup dosers) are accounted by the agent:
 * unknown until a technician fills them (`fill`), then lowered by what each drink used (`book`).
 */
export class Bins {
  private byMaterial = new Map<string, BinBinding>();
  private current: readonly BinBinding[] = [];
  private readonly tracked: Map<number, number>;

  constructor(
    bindings: readonly BinBinding[] = BinsConfigSchema.parse(undefined),
    private readonly store?: TrackedLevelsStore,
  ) {
    this.tracked = new Map(Object.entries(store?.load() ?? {}).map(([k, v]) => [Number(k), v]));
    this.replace(bindings);
  }

  get bindings(): readonly BinBinding[] {
    return this.current;
  }

  replace(bindings: readonly BinBinding[]): void {
    const before = this.current;
    this.current = bindings;
    this.byMaterial = new Map(bindings.map((b) => [b.material, b]));
    // A bin now holding another material starts unknown again.
    for (const b of before) {
      if (!bindings.some((n) => n.bin === b.bin && n.material === b.material)) this.tracked.delete(b.bin);
    }
    this.persist();
  }

  /** The bin a material is drawn from, or undefined when this machine has none bound to it. */
  binOf(material: string): BinBinding | undefined {
    return this.byMaterial.get(material);
  }

  /** Whether the machine senses this bin's level itself (bins 1 to 5). */
  sensed(bin: number): boolean {
    return SENSORS[bin] !== undefined;
  }

  /** The fault a bin's sensor raises when it runs dry (named after the bin's default kind). */
  emptyFault(bin: number): string | undefined {
    return DEFAULT_BINS.find((d) => d.bin === bin && d.material !== 'waste')?.material.concat('_empty');
  }

  /** A technician filled an unsensed bin: to `level`, or to its capacity. Returns the new level. */
  fill(bin: number, level?: number): number {
    const b = this.current.find((x) => x.bin === bin);
    if (!b) throw new AgentError('NOT_FOUND', `no bin ${bin} is bound`);
    if (this.sensed(bin)) throw new AgentError('CONFLICT', `bin ${bin} has a level sensor`);
    const to = level ?? b.capacity;
    if (to === undefined) throw new AgentError('VALIDATION_FAILED', `bin ${bin} has no capacity: give level`);
    if (to < 0 || (b.capacity !== undefined && to > b.capacity)) {
      throw new AgentError(
        'VALIDATION_FAILED',
        `level must be between 0 and ${b.capacity ?? 'the capacity'}`,
      );
    }
    this.tracked.set(bin, to);
    this.persist();
    return to;
  }

  /** Lowers the unsensed bins by what a drink used (sensed bins are read, not booked). */
  book(used: Record<string, number>): void {
    let changed = false;
    for (const [material, amount] of Object.entries(used)) {
      const b = this.byMaterial.get(material);
      const level = b ? this.tracked.get(b.bin) : undefined;
      if (!b || amount <= 0 || level === undefined || this.sensed(b.bin)) continue;
      this.tracked.set(b.bin, Math.max(0, Math.round((level - amount) * 10) / 10));
      changed = true;
    }
    if (changed) this.persist();
  }

  /** Each bin's level and capacity: from its sensor, or as accounted; undefined when not known. */
  levels(snapshot: AuxSnapshot, status?: BrewerStatus): BinLevel[] {
    const v = snapshot.values;
    return this.current.map((b) => {
      const s = SENSORS[b.bin];
      if (!s) return { ...b, level: this.tracked.get(b.bin), capacity: b.capacity };
      const raw = v[s.level] ?? (s.status ? status?.[s.status] : undefined);
      const cap = b.capacity ?? (typeof s.capacity === 'number' ? s.capacity : v[s.capacity]);
      return { ...b, level: raw === undefined ? undefined : Math.max(0, raw), capacity: cap };
    });
  }

  /** Level per material code, as the preconditions compare it with a recipe's consumption. */
  levelsByMaterial(snapshot: AuxSnapshot, status?: BrewerStatus): Record<string, number | undefined> {
    return Object.fromEntries(this.levels(snapshot, status).map((l) => [l.material, l.level]));
  }

  private persist(): void {
    this.store?.save(Object.fromEntries(this.tracked));
  }
}
