import { encodeRegister, type ModbusTable, type RegisterKey, Registers, unitIdOf } from '@crema/protocol';
import { type FCallback, type FCallbackVal, type IServiceVector, ServerTCP } from 'modbus-serial';

/**
 * A small Modbus TCP server (modbus-serial's ServerTCP) holding the register map; units in `dead` never
 * answer. Bound to a free port on loopback.
 */
export async function startModbusPeer(): Promise<{
  port: number;
  dead: Set<number>;
  set(key: RegisterKey, value: number | boolean): void;
  get(key: RegisterKey): number;
  stop(): Promise<void>;
}> {
  const words = new Map<string, number>();
  const dead = new Set<number>();
  const at = (unit: number, table: ModbusTable, addr: number) => `${unit}:${table}:${addr}`;
  const read = (unit: number, table: ModbusTable, addr: number, cb: FCallbackVal<number>) => {
    if (!dead.has(unit)) cb(null, words.get(at(unit, table, addr)) ?? 0);
  };
  const vector: IServiceVector = {
    getCoil: (addr: number, unit: number, cb: FCallbackVal<boolean>) =>
      read(unit, 'coil', addr, (e, v) => cb(e, v === 1)),
    getDiscreteInput: (addr: number, unit: number, cb: FCallbackVal<boolean>) =>
      read(unit, 'discrete', addr, (e, v) => cb(e, v === 1)),
    getInputRegister: (addr: number, unit: number, cb: FCallbackVal<number>) => read(unit, 'input', addr, cb),
    getHoldingRegister: (addr: number, unit: number, cb: FCallbackVal<number>) =>
      read(unit, 'holding', addr, cb),
    setCoil: (addr: number, value: boolean, unit: number, cb: FCallback) => {
      if (dead.has(unit)) return;
      words.set(at(unit, 'coil', addr), Number(value));
      cb(null);
    },
    setRegister: (addr: number, value: number, unit: number, cb: FCallback) => {
      if (dead.has(unit)) return;
      words.set(at(unit, 'holding', addr), value);
      cb(null);
    },
  };
  // ServerTCP treats a numeric 0 as "use 502"; the string '0' asks the OS for a free port.
  const server = new ServerTCP(vector, { host: '127.0.0.1', port: '0' as unknown as number, unitID: 255 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', (e: unknown) => reject(e));
  });
  const inner = (server as unknown as { _server: import('node:net').Server })._server;
  const address = inner.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    dead,
    set(key, value) {
      const def = Registers[key];
      const raw = typeof value === 'boolean' ? [Number(value)] : encodeRegister(def, value);
      for (const [i, w] of raw.entries()) words.set(at(unitIdOf(def), def.table, def.address + i), w);
    },
    get(key) {
      const def = Registers[key];
      return words.get(at(unitIdOf(def), def.table, def.address)) ?? 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
