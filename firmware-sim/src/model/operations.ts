import { PhysicalLimits } from '@crema/protocol';
import { sleep } from '../time/clock';
import type { Machine } from './machine';
import {
  type DispenseRecord,
  type DrinkContents,
  ok,
  refuse,
  round1,
  StepEnded,
  type StepResult,
} from './steps';

/** Simulated ms between the checks of a long step, unless the simulator is told otherwise. */
export const DEFAULT_STEP_TICK_MS = 100;
const emptyDrink = (): DrinkContents => ({ beansG: 0, coffeeMl: 0, milkMl: 0, waterMl: 0 });
const inRange = (v: number, r: { min: number; max: number }) => v >= r.min && v <= r.max;

/**
 * The brewer's long steps on the machine model. One step runs at a time; each takes the time the real
 * machine would and checks door, cup, supplies and faults as it runs.
 */
export class Operations {
  private running: { op: string; abort: AbortController } | undefined;
  private drink = emptyDrink();
  private readonly dispenses: DispenseRecord[] = [];

  constructor(
    private readonly m: Machine,
    private readonly tickMs = DEFAULT_STEP_TICK_MS,
  ) {}

  get busy(): string | undefined {
    return this.running?.op;
  }

  dispenseLog(): readonly DispenseRecord[] {
    return this.dispenses;
  }

  /** Ends the running step with ERR ABORTED and switches every actuator off. */
  stop(): StepResult {
    this.running?.abort.abort();
    this.m.allOff();
    return ok();
  }

  reset(): StepResult {
    if (this.running) return refuse('BUSY');
    this.m.resetLatched();
    return ok();
  }

  heat(targetC: number): Promise<StepResult> {
    if (!inRange(targetC, PhysicalLimits.boilerTempC)) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('heat', async (tick) => {
      const m = this.m;
      this.failIfLatched('boiler_overheat');
      m.physics.targetC = targetC;
      m.physics.heaterEnabled = true;
      const from = m.tempC;
      while (m.tempC < targetC - 0.5) {
        this.failIfLatched('boiler_overheat');
        await tick(Math.min(99, ((m.tempC - from) / Math.max(0.1, targetC - from)) * 100));
      }
      return ok({ temp_c: round1(m.tempC) });
    });
  }

  cup(): Promise<StepResult> {
    return this.run('cup', async (tick) => {
      const m = this.m;
      this.checkDoor();
      if (m.sensedLevels().cups <= 0) throw new StepEnded(refuse('EMPTY', 'cups_empty'));
      if (m.cupSensed) return ok();
      await this.hold(m.spec.cupDropMs, tick);
      m.levels.cups -= 1;
      m.counters.cupsDispensed += 1;
      // A failing cup sensor (no_cup) means the dropper cannot confirm a cup: the cup is lost.
      if (m.faults.isActive('no_cup')) throw new StepEnded(refuse('NO_CUP', 'no_cup'));
      m.cupPresent = true;
      this.drink = emptyDrink();
      m.refresh();
      return ok();
    });
  }

  grind(g: number): Promise<StepResult> {
    if (!inRange(g, PhysicalLimits.groundsG)) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('grind', async (tick) => {
      const m = this.m;
      this.checkDoor();
      this.checkCup();
      this.failIfLatched('grinder_jam');
      if (m.activeFaults().includes('waste_full')) throw new StepEnded(refuse('FAULT', 'waste_full'));
      if (m.sensedLevels().beans_g < g) throw new StepEnded(refuse('EMPTY', 'beans_empty'));
      const actual = round1(g + m.random.between(-0.2, 0.2));
      let done = 0;
      m.actuators.grinder = true;
      try {
        while (done < actual) {
          this.checkDoor();
          this.failIfLatched('grinder_jam');
          const step = Math.min(actual - done, (m.spec.grindGPerS * this.tickMs) / 1000);
          m.levels.beans_g = Math.max(0, m.levels.beans_g - step);
          m.levels.waste_g = Math.min(m.capacity.waste_g, m.levels.waste_g + step);
          done += step;
          this.drink.beansG += step;
          await tick((done / actual) * 100);
        }
      } finally {
        m.actuators.grinder = false;
      }
      return ok({ g: round1(done) });
    });
  }

  preinfuse(ms: number): Promise<StepResult> {
    if (!inRange(ms, PhysicalLimits.preinfuseMs)) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('preinfuse', async (tick) => {
      const m = this.m;
      this.checkCup();
      this.checkWater(5);
      await this.hold(ms, tick);
      const ml = ms / 1000;
      m.levels.water_ml = Math.max(0, m.levels.water_ml - ml);
      m.counters.waterUsedMl += ml;
      return ok({ ms });
    });
  }

  brew(ml: number, tempC: number, bar: number): Promise<StepResult> {
    if (!inRange(ml, PhysicalLimits.waterMl) || !inRange(bar, PhysicalLimits.pressureBar)) {
      return Promise.resolve(refuse('BAD_ARGS'));
    }
    if (!inRange(tempC, PhysicalLimits.boilerTempC)) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('brew', async (tick) => {
      const m = this.m;
      this.checkDoor();
      this.checkCup();
      this.failIfLatched('pump_fault');
      this.checkWater(ml);
      if (m.tempC < tempC - 2)
        throw new StepEnded(refuse('NOT_HOT', undefined, `boiler at ${round1(m.tempC)}`));
      const flow = (m.spec.brewFlowMlPerS * Math.min(bar, 9)) / 9;
      let pumped = 0;
      let peak = 0;
      m.actuators.pump = true;
      m.actuators.brewValve = true;
      m.physics.pumpTargetBar = bar;
      try {
        while (pumped < ml) {
          this.checkDoor();
          this.checkCup();
          this.failIfLatched('pump_fault');
          this.checkWater(1);
          const step = Math.min(ml - pumped, (flow * this.tickMs) / 1000);
          pumped += step;
          m.levels.water_ml = Math.max(0, m.levels.water_ml - step);
          m.counters.waterUsedMl += step;
          m.physics.tempC -= step * 0.02;
          this.drink.coffeeMl += step;
          await tick((pumped / ml) * 100);
          peak = Math.max(peak, m.pressureBar);
        }
      } finally {
        m.actuators.pump = false;
        m.actuators.brewValve = false;
        m.physics.pumpTargetBar = 0;
      }
      m.counters.brewCount += 1;
      return ok({ ml: round1(pumped), temp_c: round1(m.tempC), bar: round1(peak) });
    });
  }

  milk(ml: number, tempC: number, foam: boolean): Promise<StepResult> {
    if (!inRange(ml, PhysicalLimits.milkMl) || !inRange(tempC, PhysicalLimits.milkTempC)) {
      return Promise.resolve(refuse('BAD_ARGS'));
    }
    return this.run('milk', async (tick) => {
      const m = this.m;
      this.checkCup();
      if (m.sensedLevels().milk_ml < Math.max(ml, m.spec.minimum.milk_ml)) {
        throw new StepEnded(refuse('EMPTY', 'milk_empty'));
      }
      const flow = m.spec.milkFlowMlPerS * (foam ? 0.7 : 1);
      m.actuators.milkPump = true;
      m.actuators.steamValve = true;
      let done = 0;
      try {
        while (done < ml) {
          this.checkCup();
          if (m.sensedLevels().milk_ml <= 0) throw new StepEnded(refuse('EMPTY', 'milk_empty'));
          const step = Math.min(ml - done, (flow * this.tickMs) / 1000);
          done += step;
          m.levels.milk_ml = Math.max(0, m.levels.milk_ml - step);
          this.drink.milkMl += step;
          await tick((done / Math.max(ml, 1)) * 100);
        }
      } finally {
        m.actuators.milkPump = false;
        m.actuators.steamValve = false;
      }
      return ok({ ml: round1(done) });
    });
  }

  water(ml: number): Promise<StepResult> {
    if (!inRange(ml, PhysicalLimits.waterMl)) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('water', async (tick) => {
      const m = this.m;
      this.checkCup();
      this.checkWater(ml);
      let done = 0;
      while (done < ml) {
        this.checkCup();
        this.checkWater(1);
        const step = Math.min(ml - done, (m.spec.waterFlowMlPerS * this.tickMs) / 1000);
        done += step;
        m.levels.water_ml = Math.max(0, m.levels.water_ml - step);
        m.counters.waterUsedMl += step;
        this.drink.waterMl += step;
        await tick((done / ml) * 100);
      }
      return ok({ ml: round1(done) });
    });
  }

  /**
   * A measured amount from an auxiliary doser (bins 6 and up: powders, syrups). The model has no level sensor
   * on them, so it never runs dry here: the agent keeps their accounting.
   */
  dose(bin: number, amt: number): Promise<StepResult> {
    if (!Number.isInteger(bin) || bin < 6 || bin > 32 || !inRange(amt, PhysicalLimits.doseAmount)) {
      return Promise.resolve(refuse('BAD_ARGS', undefined, 'dose needs an auxiliary bin (6-32) and amt'));
    }
    return this.run('dose', async (tick) => {
      this.checkCup();
      // About 5 units a second, like a powder auger.
      await this.hold((amt / 5) * 1000, tick);
      return ok({ amt: round1(amt) });
    });
  }

  dispense(): Promise<StepResult> {
    return this.run('dispense', async (tick) => {
      const m = this.m;
      this.checkCup();
      await this.hold(m.spec.dispenseMs, tick);
      m.cupPresent = false;
      const at = m.clock.now();
      const d = this.drink;
      this.dispenses.push({
        seq: this.dispenses.length + 1,
        at,
        atIso: new Date(at).toISOString(),
        beansG: round1(d.beansG),
        coffeeMl: round1(d.coffeeMl),
        milkMl: round1(d.milkMl),
        waterMl: round1(d.waterMl),
      });
      this.drink = emptyDrink();
      m.refresh();
      return ok();
    });
  }

  rinse(cycles: number): Promise<StepResult> {
    if (!Number.isInteger(cycles) || cycles < 1 || cycles > 10) return Promise.resolve(refuse('BAD_ARGS'));
    return this.run('rinse', async (tick) => {
      const m = this.m;
      this.checkDoor();
      const total = cycles * m.spec.rinseCycleMl;
      this.checkWater(total);
      let used = 0;
      for (let c = 0; c < cycles; c++) {
        await this.hold(m.spec.rinseCycleMs, (pct) => tick(((c + pct / 100) / cycles) * 100));
        this.checkDoor();
        m.levels.water_ml = Math.max(0, m.levels.water_ml - m.spec.rinseCycleMl);
        m.counters.waterUsedMl += m.spec.rinseCycleMl;
        used += m.spec.rinseCycleMl;
      }
      return ok({ ml: used });
    });
  }

  /**
   * Descales the water path: fills it with the solution in the tank (a fifth of the time), lets it soak (half)
   * and flushes it out (the rest). The whole volume leaves the tank; the door must stay shut throughout.
   */
  descale(): Promise<StepResult> {
    return this.run('descale', async (tick) => {
      const m = this.m;
      this.checkDoor();
      this.checkWater(m.spec.descaleMl);
      const start = m.clock.now();
      const phases = [0.2, 0.5, 0.3];
      let done = 0;
      for (const share of phases) {
        const from = done;
        await this.hold(m.spec.descaleMs * share, (pct) => tick((from + (share * pct) / 100) * 100));
        this.checkDoor();
        done += share;
      }
      // The agent counts a descale from its reply; the last PROGRESS says so on the line for any listener.
      await tick(100);
      m.levels.water_ml = Math.max(0, m.levels.water_ml - m.spec.descaleMl);
      m.counters.waterUsedMl += m.spec.descaleMl;
      return ok({ ml: m.spec.descaleMl, ms: m.clock.now() - start });
    });
  }

  private async run(
    op: string,
    body: (tick: (pct: number) => Promise<void>) => Promise<StepResult>,
  ): Promise<StepResult> {
    if (this.running) return refuse('BUSY', undefined, `${this.running.op} running`);
    const abort = new AbortController();
    this.running = { op, abort };
    this.m.sync();
    this.m.stepInControl = true;
    let lastPct = 0;
    const tick = async (pct: number): Promise<void> => {
      await sleep(this.m.clock, this.tickMs, abort.signal).catch(() => {
        throw new StepEnded(refuse('ABORTED'));
      });
      const p = Math.floor(Math.max(0, Math.min(100, pct)) / 25) * 25;
      if (p > lastPct) {
        lastPct = p;
        this.m.emit({ type: 'progress', op, pct: p });
      }
    };
    try {
      const result = await body(tick);
      // A step always ends its progress at 100, even when a slow host's timers skipped every quarter.
      if (result.ok && lastPct < 100) this.m.emit({ type: 'progress', op, pct: 100 });
      return result;
    } catch (e) {
      if (e instanceof StepEnded) return e.result;
      return refuse('INTERNAL', undefined, e instanceof Error ? e.message.slice(0, 60) : 'error');
    } finally {
      this.m.sync();
      this.m.stepInControl = false;
      this.running = undefined;
      this.m.refresh();
    }
  }

  /** Waits `ms` in ticks so STOP ends the wait promptly. */
  private async hold(ms: number, tick: (pct: number) => Promise<void>): Promise<void> {
    const start = this.m.clock.now();
    while (this.m.clock.now() - start < ms) await tick(((this.m.clock.now() - start) / ms) * 100);
  }

  private checkDoor(): void {
    if (this.m.doorOpen) throw new StepEnded(refuse('DOOR_OPEN', 'door_open'));
  }

  private checkCup(): void {
    if (!this.m.cupSensed) throw new StepEnded(refuse('NO_CUP'));
  }

  private checkWater(ml: number): void {
    const l = this.m.sensedLevels();
    if (l.water_ml < Math.max(ml, this.m.spec.minimum.water_ml))
      throw new StepEnded(refuse('EMPTY', 'water_empty'));
  }

  private failIfLatched(fault: 'boiler_overheat' | 'grinder_jam' | 'pump_fault'): void {
    if (this.m.isLatched(fault)) throw new StepEnded(refuse('FAULT', fault));
  }
}
