import {
  Boards,
  type BrewerFault,
  decodeRegister,
  encodeFaultBits,
  encodeRegister,
  type FaultBit,
  type ModbusTable,
  PhysicalLimits,
  type RegisterDef,
  type RegisterKey,
  Registers,
} from '@crema/protocol';
import type { Machine } from '../model/machine';

/** Modbus exception codes the boards answer with. */
export const ModbusException = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_DATA_ADDRESS: 2,
  ILLEGAL_DATA_VALUE: 3,
  SERVER_DEVICE_FAILURE: 4,
  GATEWAY_TARGET_FAILED: 11,
} as const;

/** What a board does with a request: answer, answer with an exception, or say nothing (timeout). */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; exception: number }
  | { ok: false; silent: true };

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const exception = (code: number): Outcome<never> => ({ ok: false, exception: code });

const BOARD_FAULTS: Record<'boiler' | 'supply' | 'sensors', readonly FaultBit[]> = {
  boiler: ['boiler_overheat', 'pump_fault'],
  supply: ['water_empty', 'beans_empty', 'milk_empty', 'cups_empty', 'waste_full', 'grinder_jam'],
  sensors: ['door_open', 'sensor_fault'],
};

type Cell = { key: RegisterKey; def: RegisterDef; word: number };

/**
 * The three auxiliary boards' register tables over the live machine model. Addresses up to the highest one a
 * board defines in a table read as 0 when unassigned (reserved); anything beyond is an illegal data address.
 */
export class RegisterBank {
  readonly unitIds: number[] = Object.values(Boards).map((b) => b.unitId);
  private readonly cells = new Map<string, Cell>();
  private readonly maxAddress = new Map<string, number>();

  constructor(private readonly m: Machine) {
    for (const [key, def] of Object.entries(Registers) as [RegisterKey, RegisterDef][]) {
      const unit = Boards[def.board].unitId;
      for (let w = 0; w < def.words; w++) {
        this.cells.set(cellKey(unit, def.table, def.address + w), { key, def, word: w });
      }
      const tk = `${unit}/${def.table}`;
      this.maxAddress.set(tk, Math.max(this.maxAddress.get(tk) ?? -1, def.address + def.words - 1));
    }
  }

  /** Injected Modbus faults for a unit, and unknown units: what the board does instead of answering. */
  gate(unit: number): Outcome<void> {
    const f = this.m.faults;
    const t = f.params('modbus_timeout');
    if (t && (t.unit === undefined || t.unit === unit)) return { ok: false, silent: true };
    const e = f.params('modbus_exception');
    if (e && (e.unit === undefined || e.unit === unit)) return exception(e.code);
    if (!this.unitIds.includes(unit)) return { ok: false, silent: true };
    return ok(undefined);
  }

  read(unit: number, table: ModbusTable, address: number, count: number): Outcome<number[]> {
    const max = this.maxAddress.get(`${unit}/${table}`);
    if (max === undefined || address < 0 || address + count - 1 > max) {
      return exception(ModbusException.ILLEGAL_DATA_ADDRESS);
    }
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const cell = this.cells.get(cellKey(unit, table, a));
      out.push(cell ? (encodeRegister(cell.def, this.value(cell.key))[cell.word] ?? 0) : 0);
    }
    return ok(out);
  }

  writeCoil(unit: number, address: number, on: boolean): Outcome<void> {
    const cell = this.cells.get(cellKey(unit, 'coil', address));
    if (!cell) return exception(ModbusException.ILLEGAL_DATA_ADDRESS);
    this.setCoil(cell.key, on);
    return ok(undefined);
  }

  writeRegister(unit: number, address: number, raw: number): Outcome<void> {
    const cell = this.cells.get(cellKey(unit, 'holding', address));
    if (!cell) return exception(ModbusException.ILLEGAL_DATA_ADDRESS);
    const value = decodeRegister(cell.def, [raw & 0xffff]);
    const m = this.m;
    switch (cell.key) {
      case 'boilerTarget': {
        const r = PhysicalLimits.boilerTempC;
        if (value < r.min || value > r.max) return exception(ModbusException.ILLEGAL_DATA_VALUE);
        m.sync();
        m.physics.targetC = value;
        return ok(undefined);
      }
      case 'waterCapacity':
      case 'beansCapacity':
      case 'milkCapacity':
      case 'cupsCapacity': {
        if (value < 1) return exception(ModbusException.ILLEGAL_DATA_VALUE);
        const level = {
          waterCapacity: 'water_ml',
          beansCapacity: 'beans_g',
          milkCapacity: 'milk_ml',
          cupsCapacity: 'cups',
        } as const;
        m.setCapacity(level[cell.key], value);
        return ok(undefined);
      }
      default:
        return exception(ModbusException.ILLEGAL_DATA_ADDRESS);
    }
  }

  /** Engineering value of a register, read live from the model. */
  value(key: RegisterKey): number {
    const m = this.m;
    const l = m.sensedLevels();
    const bit = (on: boolean) => (on ? 1 : 0);
    switch (key) {
      case 'boilerTemp':
        return m.tempC;
      case 'pressure':
        return m.pressureBar;
      case 'boilerFaults':
        return this.faultBits('boiler');
      case 'brewCount':
        return m.counters.brewCount;
      case 'waterUsed':
        return m.counters.waterUsedMl;
      case 'boilerTarget':
        return m.physics.targetC;
      case 'heater':
        return bit(m.physics.heaterEnabled);
      case 'pump':
        return bit(m.actuators.pump);
      case 'brewValve':
        return bit(m.actuators.brewValve);
      case 'steamValve':
        return bit(m.actuators.steamValve);
      case 'waterLevel':
        return l.water_ml;
      case 'beansLevel':
        return l.beans_g;
      case 'milkLevel':
        return l.milk_ml;
      case 'cupsLevel':
        return l.cups;
      case 'wasteLevel':
        return m.wastePct();
      case 'supplyFaults':
        return this.faultBits('supply');
      case 'cupsDispensed':
        return m.counters.cupsDispensed;
      case 'waterCapacity':
        return m.capacity.water_ml;
      case 'beansCapacity':
        return m.capacity.beans_g;
      case 'milkCapacity':
        return m.capacity.milk_ml;
      case 'cupsCapacity':
        return m.capacity.cups;
      case 'grinder':
        return bit(m.actuators.grinder);
      case 'milkPump':
        return bit(m.actuators.milkPump);
      case 'cupDropper':
        return 0;
      case 'cupPresent':
        return bit(m.cupSensed);
      case 'doorOpen':
        return bit(m.doorOpen);
      case 'binPresent':
        return bit(m.binPresent);
      case 'sensorFaults':
        return this.faultBits('sensors');
      case 'doorLock':
        return bit(m.actuators.doorLock);
      case 'cupLight':
        return bit(m.actuators.cupLight);
    }
  }

  private faultBits(board: keyof typeof BOARD_FAULTS): number {
    const active = new Set<BrewerFault | 'sensor_fault'>(this.m.activeFaults());
    if (active.has('no_cup')) active.add('sensor_fault');
    return encodeFaultBits(BOARD_FAULTS[board].filter((f) => active.has(f)));
  }

  private setCoil(key: RegisterKey, on: boolean): void {
    const m = this.m;
    m.sync();
    switch (key) {
      case 'heater':
        m.physics.heaterEnabled = on;
        break;
      case 'pump':
        m.actuators.pump = on;
        m.physics.pumpTargetBar = on ? 9 : 0;
        break;
      case 'brewValve':
      case 'steamValve':
      case 'grinder':
      case 'milkPump':
      case 'doorLock':
      case 'cupLight':
        m.actuators[key] = on;
        break;
      case 'cupDropper':
        // A pulse: one cup drops if there is one and nothing blocks the dropper.
        if (on && m.sensedLevels().cups > 0 && !m.doorOpen && !m.faults.isActive('no_cup')) {
          m.levels.cups -= 1;
          m.counters.cupsDispensed += 1;
          m.cupPresent = true;
        }
        break;
      default:
        return;
    }
    m.refresh();
  }
}

function cellKey(unit: number, table: ModbusTable, address: number): string {
  return `${unit}/${table}/${address}`;
}
