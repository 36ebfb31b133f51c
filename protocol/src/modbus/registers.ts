/**
 * Register map of the auxiliary boards. Each board is one Modbus unit (the same ids on TCP and RTU).
 * Raw register values are integers; engineering value = raw × scale. 32-bit counters use two registers,
 * high word first. Addresses are zero-based protocol addresses.
 */
export type ModbusTable = 'coil' | 'discrete' | 'input' | 'holding';

export type RegisterDef = {
  readonly name: string;
  readonly board: BoardName;
  readonly table: ModbusTable;
  readonly address: number;
  readonly words: 1 | 2;
  readonly signed: boolean;
  readonly scale: number;
  readonly unit: string;
  readonly description: string;
};

export const Boards = {
  boiler: { unitId: 1, description: 'Boiler and pump board' },
  supply: { unitId: 2, description: 'Material supply board (water, beans, milk, cups, waste)' },
  sensors: { unitId: 3, description: 'Cup, door and bin sensor board' },
} as const;
export type BoardName = keyof typeof Boards;

const reg = (
  board: BoardName,
  table: ModbusTable,
  address: number,
  name: string,
  scale: number,
  unit: string,
  description: string,
  opts: { words?: 1 | 2; signed?: boolean } = {},
): RegisterDef => ({
  name,
  board,
  table,
  address,
  words: opts.words ?? 1,
  signed: opts.signed ?? false,
  scale,
  unit,
  description,
});

export const Registers = {
  boilerTemp: reg('boiler', 'input', 0, 'boiler_temp', 0.1, '°C', 'Boiler water temperature', {
    signed: true,
  }),
  pressure: reg('boiler', 'input', 1, 'pressure', 0.01, 'bar', 'Pump pressure at the group head'),
  boilerFaults: reg(
    'boiler',
    'input',
    10,
    'boiler_faults',
    1,
    'bits',
    'Fault bits of this board (FaultBits)',
  ),
  brewCount: reg('boiler', 'input', 20, 'brew_count', 1, 'count', 'Brews since manufacture', { words: 2 }),
  waterUsed: reg('boiler', 'input', 22, 'water_used', 1, 'ml', 'Water pumped since manufacture', {
    words: 2,
  }),
  boilerTarget: reg('boiler', 'holding', 0, 'boiler_target', 0.1, '°C', 'Boiler set point (writable)'),
  heater: reg('boiler', 'coil', 0, 'heater', 1, 'on/off', 'Boiler heater'),
  pump: reg('boiler', 'coil', 1, 'pump', 1, 'on/off', 'Brew pump'),
  brewValve: reg('boiler', 'coil', 2, 'brew_valve', 1, 'open/closed', 'Group head valve'),
  steamValve: reg('boiler', 'coil', 3, 'steam_valve', 1, 'open/closed', 'Steam valve'),

  waterLevel: reg('supply', 'input', 0, 'water_level', 1, 'ml', 'Water in the tank'),
  beansLevel: reg('supply', 'input', 1, 'beans_level', 1, 'g', 'Beans in the hopper'),
  milkLevel: reg('supply', 'input', 2, 'milk_level', 1, 'ml', 'Milk in the fridge container'),
  cupsLevel: reg('supply', 'input', 3, 'cups_level', 1, 'pcs', 'Cups in the dispenser'),
  wasteLevel: reg('supply', 'input', 4, 'waste_level', 0.1, '%', 'Grounds bin fill level'),
  supplyFaults: reg(
    'supply',
    'input',
    10,
    'supply_faults',
    1,
    'bits',
    'Fault bits of this board (FaultBits)',
  ),
  cupsDispensed: reg('supply', 'input', 20, 'cups_dispensed', 1, 'count', 'Cups dropped since manufacture', {
    words: 2,
  }),
  waterCapacity: reg('supply', 'holding', 0, 'water_capacity', 1, 'ml', 'Tank capacity (writable)'),
  beansCapacity: reg('supply', 'holding', 1, 'beans_capacity', 1, 'g', 'Hopper capacity (writable)'),
  milkCapacity: reg('supply', 'holding', 2, 'milk_capacity', 1, 'ml', 'Milk container capacity (writable)'),
  cupsCapacity: reg('supply', 'holding', 3, 'cups_capacity', 1, 'pcs', 'Cup dispenser capacity (writable)'),
  grinder: reg('supply', 'coil', 0, 'grinder', 1, 'on/off', 'Grinder motor'),
  milkPump: reg('supply', 'coil', 1, 'milk_pump', 1, 'on/off', 'Milk pump'),
  cupDropper: reg('supply', 'coil', 2, 'cup_dropper', 1, 'on/off', 'Cup dropper'),

  cupPresent: reg('sensors', 'discrete', 0, 'cup_present', 1, 'bool', 'A cup stands under the spout'),
  doorOpen: reg('sensors', 'discrete', 1, 'door_open', 1, 'bool', 'The service door is open'),
  binPresent: reg('sensors', 'discrete', 2, 'bin_present', 1, 'bool', 'The grounds bin is in place'),
  sensorFaults: reg(
    'sensors',
    'input',
    10,
    'sensor_faults',
    1,
    'bits',
    'Fault bits of this board (FaultBits)',
  ),
  doorLock: reg('sensors', 'coil', 0, 'door_lock', 1, 'on/off', 'Service door lock'),
  cupLight: reg('sensors', 'coil', 1, 'cup_light', 1, 'on/off', 'Light over the cup area'),
} as const satisfies Record<string, RegisterDef>;
export type RegisterKey = keyof typeof Registers;

/** Bit positions in every board's fault register. */
export const FaultBits = {
  water_empty: 0,
  beans_empty: 1,
  milk_empty: 2,
  cups_empty: 3,
  waste_full: 4,
  grinder_jam: 5,
  boiler_overheat: 6,
  pump_fault: 7,
  door_open: 8,
  sensor_fault: 9,
} as const;
export type FaultBit = keyof typeof FaultBits;

export function decodeFaultBits(raw: number): FaultBit[] {
  return (Object.keys(FaultBits) as FaultBit[]).filter((k) => (raw >> FaultBits[k]) & 1);
}

export function encodeFaultBits(faults: Iterable<FaultBit>): number {
  let raw = 0;
  for (const f of faults) raw |= 1 << FaultBits[f];
  return raw;
}

/** Raw register words to an engineering value. */
export function decodeRegister(def: RegisterDef, words: readonly number[]): number {
  // Arithmetic, not bitwise: `|` would turn counters of 2^31 and above negative.
  let raw =
    def.words === 2
      ? ((words[0] ?? 0) & 0xffff) * 0x10000 + ((words[1] ?? 0) & 0xffff)
      : (words[0] ?? 0) & 0xffff;
  const span = def.words === 2 ? 0x1_0000_0000 : 0x10000;
  if (def.signed && raw >= span / 2) raw -= span;
  return Math.round(raw * def.scale * 1000) / 1000;
}

/** An engineering value to raw register words (rounded, clamped to the register's range). */
export function encodeRegister(def: RegisterDef, value: number): number[] {
  const raw = Math.round(value / def.scale);
  if (def.words === 2) {
    const v = def.signed
      ? (Math.min(Math.max(raw, -0x8000_0000), 0x7fff_ffff) + 0x1_0000_0000) % 0x1_0000_0000
      : Math.min(Math.max(raw, 0), 0xffffffff);
    return [Math.floor(v / 0x10000), v % 0x10000];
  }
  if (def.signed) return [(Math.min(Math.max(raw, -0x8000), 0x7fff) + 0x10000) % 0x10000];
  return [Math.min(Math.max(raw, 0), 0xffff)];
}

export function unitIdOf(def: RegisterDef): number {
  return Boards[def.board].unitId;
}
