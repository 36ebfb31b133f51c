import { encodeRegister, type ModbusTable, type RegisterKey, Registers, unitIdOf } from '@crema/protocol';
import type { ModbusLink } from './link';

/**
 * In-memory Modbus units for unit tests. A unit in `dead` never answers (its requests hang until the
 * caller's timeout); every request is logged in `calls`.
 */
export class FakeModbusLink implements ModbusLink {
  readonly sharedBus = false;
  readonly words = new Map<string, number>();
  readonly dead = new Set<number>();
  readonly calls: string[] = [];
  readonly writes: Array<{ unitId: number; address: number; value: number | boolean }> = [];

  /** Sets a register by key, in engineering units. */
  set(key: RegisterKey, value: number | boolean): void {
    const def = Registers[key];
    const words = typeof value === 'boolean' ? [Number(value)] : encodeRegister(def, value);
    for (const [i, w] of words.entries()) this.words.set(slot(unitIdOf(def), def.table, def.address + i), w);
  }

  get(key: RegisterKey): number {
    const def = Registers[key];
    return this.words.get(slot(unitIdOf(def), def.table, def.address)) ?? 0;
  }

  read(unitId: number, table: ModbusTable, address: number, count: number): Promise<number[]> {
    this.calls.push(`read ${unitId} ${table} ${address}+${count}`);
    if (this.dead.has(unitId)) return new Promise(() => undefined);
    return Promise.resolve(
      Array.from({ length: count }, (_, i) => this.words.get(slot(unitId, table, address + i)) ?? 0),
    );
  }

  writeCoil(unitId: number, address: number, value: boolean): Promise<void> {
    this.calls.push(`coil ${unitId} ${address}=${value}`);
    if (this.dead.has(unitId)) return new Promise(() => undefined);
    this.writes.push({ unitId, address, value });
    this.words.set(slot(unitId, 'coil', address), Number(value));
    return Promise.resolve();
  }

  writeRegisters(unitId: number, address: number, words: number[]): Promise<void> {
    this.calls.push(`holding ${unitId} ${address}=${words.join(',')}`);
    if (this.dead.has(unitId)) return new Promise(() => undefined);
    for (const [i, w] of words.entries()) {
      this.writes.push({ unitId, address: address + i, value: w });
      this.words.set(slot(unitId, 'holding', address + i), w);
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {}
}

function slot(unitId: number, table: ModbusTable, address: number): string {
  return `${unitId}:${table}:${address}`;
}
