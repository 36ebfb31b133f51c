import type { BrewerFault, Random } from '@crema/protocol';
import type { Clock, ClockTimer } from '../time/clock';
import type { FaultRegistry } from './faults';
import { initialPhysics, PHYSICS_STEP_MS, type PhysicsState, stepPhysics } from './physics';
import type { MachineSpec } from './specs';

export type Levels = { water_ml: number; beans_g: number; milk_ml: number; cups: number; waste_g: number };

export type Actuators = {
  pump: boolean;
  brewValve: boolean;
  steamValve: boolean;
  grinder: boolean;
  milkPump: boolean;
  doorLock: boolean;
  cupLight: boolean;
};

export type Counters = { brewCount: number; waterUsedMl: number; cupsDispensed: number };

export type MachineEvent =
  | { type: 'fault'; code: BrewerFault }
  | { type: 'clear'; code: BrewerFault }
  | { type: 'cup'; state: 'present' | 'removed' }
  | { type: 'door'; state: 'open' | 'closed' }
  | { type: 'progress'; op: string; pct: number };

/** Faults that stay set after their cause is gone, until RESET. */
const LATCHED: readonly BrewerFault[] = ['grinder_jam', 'boiler_overheat', 'pump_fault'];
const TICK_MS = 250;

export type MachineOptions = {
  spec: MachineSpec;
  clock: Clock;
  random: Random;
  faults: FaultRegistry;
  /** Boiler temperature at power-up (default: ambient). */
  initialTempC?: number;
  /** Fill levels at power-up (default: full, empty waste bin). */
  levels?: Partial<Levels>;
};

/**
 * The physical machine: boiler, pump, supplies, sensors, actuators and counters. Reads are live: the continuous
 * part is integrated up to the clock's now on every read. Faults derive from the state and the injected faults.
 */
export class Machine {
  /** Replaced when the brewer boots another image (see boot/), so it is not readonly. */
  spec: MachineSpec;
  readonly clock: Clock;
  readonly random: Random;
  readonly faults: FaultRegistry;
  readonly physics: PhysicsState;
  readonly levels: Levels;
  readonly capacity: MachineSpec['capacity'];
  readonly actuators: Actuators = {
    pump: false,
    brewValve: false,
    steamValve: false,
    grinder: false,
    milkPump: false,
    doorLock: false,
    cupLight: false,
  };
  readonly counters: Counters = { brewCount: 0, waterUsedMl: 0, cupsDispensed: 0 };
  cupPresent = false;
  binPresent = true;
  /** While a brewer step runs it books its own consumption; coils then only show what it switched. */
  stepInControl = false;
  private readonly latched = new Set<BrewerFault>();
  private lastSync: number;
  private tick: ClockTimer | undefined;
  private reported = new Set<BrewerFault>();
  private reportedCup = false;
  private reportedDoorOpen = false;
  private readonly listeners = new Set<(e: MachineEvent) => void>();
  private unsubscribeFaults: (() => void) | undefined;

  constructor(options: MachineOptions) {
    this.spec = options.spec;
    this.clock = options.clock;
    this.random = options.random;
    this.faults = options.faults;
    this.capacity = { ...options.spec.capacity };
    this.physics = initialPhysics(options.spec, options.initialTempC);
    this.levels = { ...options.spec.capacity, waste_g: 0, ...options.levels };
    this.lastSync = options.clock.now();
  }

  start(): void {
    this.lastSync = this.clock.now();
    this.tick = this.clock.setInterval(() => this.refresh(), TICK_MS);
    this.unsubscribeFaults = this.faults.onChange((c) => {
      if (c.active && c.name === 'boiler_overheat') this.latched.add('boiler_overheat');
      if (c.active && (c.name === 'grinder_jam' || c.name === 'pump_fault')) this.latched.add(c.name);
      if (c.active && c.name === 'no_cup') this.cupPresent = false;
      this.refresh();
    });
    this.refresh();
  }

  stop(): void {
    if (this.tick) this.clock.clearInterval(this.tick);
    this.tick = undefined;
    this.unsubscribeFaults?.();
  }

  onEvent(listener: (e: MachineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: MachineEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** Integrates the continuous part up to now in fixed steps. */
  sync(): void {
    const now = this.clock.now();
    while (now - this.lastSync >= PHYSICS_STEP_MS) {
      this.stepManualActuators(PHYSICS_STEP_MS);
      stepPhysics(this.physics, this.spec, PHYSICS_STEP_MS);
      if (this.physics.tempC > this.spec.maxTempC) this.latched.add('boiler_overheat');
      this.physics.cutout = this.latched.has('boiler_overheat');
      this.lastSync += PHYSICS_STEP_MS;
    }
  }

  /** Coils switched on over Modbus act on the supplies while no step controls them. */
  private stepManualActuators(dtMs: number): void {
    if (this.stepInControl) return;
    const dt = dtMs / 1000;
    if (this.actuators.grinder && !this.faults.isActive('grinder_jam')) {
      const g = Math.min(this.levels.beans_g, this.spec.grindGPerS * dt);
      this.levels.beans_g -= g;
      this.levels.waste_g = Math.min(this.capacity.waste_g, this.levels.waste_g + g);
    }
    if (this.actuators.milkPump)
      this.levels.milk_ml = Math.max(0, this.levels.milk_ml - this.spec.milkFlowMlPerS * dt);
    if (this.actuators.pump && this.actuators.brewValve) {
      const ml = Math.min(this.levels.water_ml, this.spec.brewFlowMlPerS * dt);
      this.levels.water_ml -= ml;
      this.counters.waterUsedMl += ml;
    }
  }

  /** Brings the state up to date and reports every sensor and fault change as an event. */
  refresh(): void {
    this.sync();
    const doorOpen = this.doorOpen;
    if (doorOpen !== this.reportedDoorOpen) {
      this.reportedDoorOpen = doorOpen;
      this.emit({ type: 'door', state: doorOpen ? 'open' : 'closed' });
    }
    const cup = this.cupSensed;
    if (cup !== this.reportedCup) {
      this.reportedCup = cup;
      this.emit({ type: 'cup', state: cup ? 'present' : 'removed' });
    }
    const now = new Set(this.activeFaults());
    for (const f of now) if (!this.reported.has(f)) this.emit({ type: 'fault', code: f });
    for (const f of this.reported) if (!now.has(f)) this.emit({ type: 'clear', code: f });
    this.reported = now;
  }

  get doorOpen(): boolean {
    return this.faults.isActive('door_open');
  }

  /** The cup sensor: a failing cup sensor (no_cup) never sees one. */
  get cupSensed(): boolean {
    return this.cupPresent && !this.faults.isActive('no_cup');
  }

  get tempC(): number {
    this.sync();
    return this.physics.tempC;
  }

  get pressureBar(): number {
    this.sync();
    return this.physics.pressureBar;
  }

  /** Levels as the sensors report them: an injected "empty" reads as empty. */
  sensedLevels(): Levels {
    this.sync();
    const f = this.faults;
    return {
      water_ml: f.isActive('water_empty') ? 0 : this.levels.water_ml,
      beans_g: f.isActive('beans_empty') ? 0 : this.levels.beans_g,
      milk_ml: f.isActive('milk_empty') ? 0 : this.levels.milk_ml,
      cups: f.isActive('cups_empty') ? 0 : this.levels.cups,
      waste_g: f.isActive('waste_full') ? this.capacity.waste_g : this.levels.waste_g,
    };
  }

  wastePct(): number {
    return (this.sensedLevels().waste_g / this.capacity.waste_g) * 100;
  }

  activeFaults(): BrewerFault[] {
    const l = this.sensedLevels();
    const m = this.spec.minimum;
    const out: BrewerFault[] = [];
    if (l.water_ml < m.water_ml) out.push('water_empty');
    if (l.beans_g < m.beans_g) out.push('beans_empty');
    if (l.milk_ml < m.milk_ml) out.push('milk_empty');
    if (l.cups <= 0) out.push('cups_empty');
    if (l.waste_g >= this.capacity.waste_g || !this.binPresent) out.push('waste_full');
    for (const f of LATCHED) if (this.latched.has(f)) out.push(f);
    if (this.doorOpen) out.push('door_open');
    if (this.faults.isActive('no_cup')) out.push('no_cup');
    return out;
  }

  isLatched(fault: BrewerFault): boolean {
    return this.latched.has(fault);
  }

  latch(fault: BrewerFault): void {
    this.latched.add(fault);
    this.refresh();
  }

  /** Clears latched faults whose cause is gone (RESET). */
  resetLatched(): void {
    this.sync();
    for (const f of LATCHED) {
      if (this.faults.isActive(f)) continue;
      if (f === 'boiler_overheat' && this.physics.tempC > this.spec.maxTempC) continue;
      this.latched.delete(f);
    }
    this.physics.cutout = this.latched.has('boiler_overheat');
    this.refresh();
  }

  /** Every actuator off (STOP). */
  allOff(): void {
    this.sync();
    for (const k of Object.keys(this.actuators) as (keyof Actuators)[]) {
      if (k !== 'doorLock' && k !== 'cupLight') this.actuators[k] = false;
    }
    this.physics.pumpTargetBar = 0;
  }

  /** Fills supplies to capacity (all by default) and empties the waste bin. */
  refill(what: Partial<Record<keyof Levels, number | 'full'>> = {}): Levels {
    this.sync();
    const all = Object.keys(what).length === 0;
    for (const key of ['water_ml', 'beans_g', 'milk_ml', 'cups'] as const) {
      const v = all ? 'full' : what[key];
      if (v !== undefined)
        this.levels[key] = v === 'full' ? this.capacity[key] : Math.min(v, this.capacity[key]);
    }
    const w = all ? 0 : what.waste_g;
    if (w !== undefined) this.levels.waste_g = w === 'full' ? this.capacity.waste_g : Math.max(0, w);
    this.refresh();
    return { ...this.levels };
  }

  setCapacity(key: keyof Levels, value: number): void {
    this.capacity[key] = value;
    if (key !== 'waste_g') this.levels[key] = Math.min(this.levels[key], value);
    this.refresh();
  }
}
