import type { ModbusTable } from '@crema/protocol';
import ModbusRTU from 'modbus-serial';
import type { ModbusConfig } from '../config';

/** Register access to one Modbus unit; booleans (coils, discrete inputs) come back as 0/1. */
export interface ModbusLink {
  /** True when all units share one bus and their requests take turns (RTU). */
  readonly sharedBus: boolean;
  read(unitId: number, table: ModbusTable, address: number, count: number): Promise<number[]>;
  writeCoil(unitId: number, address: number, value: boolean): Promise<void>;
  writeRegisters(unitId: number, address: number, words: number[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * modbus-serial underneath. On TCP each unit gets its own connection, so a unit that never answers holds
 * up nobody else; on RTU the units share one bus, so requests take turns and each is bounded by the timeout.
 */
export class ModbusSerialLink implements ModbusLink {
  readonly sharedBus: boolean;
  private readonly clients = new Map<string, { client: ModbusRTU; queue: Promise<unknown> }>();

  constructor(
    private readonly config: ModbusConfig,
    private readonly timeoutMs: number,
  ) {
    this.sharedBus = config.transport === 'rtu';
  }

  read(unitId: number, table: ModbusTable, address: number, count: number): Promise<number[]> {
    return this.run(unitId, async (c) => {
      switch (table) {
        case 'coil':
          return (await c.readCoils(address, count)).data.slice(0, count).map(Number);
        case 'discrete':
          return (await c.readDiscreteInputs(address, count)).data.slice(0, count).map(Number);
        case 'input':
          return (await c.readInputRegisters(address, count)).data;
        case 'holding':
          return (await c.readHoldingRegisters(address, count)).data;
      }
    });
  }

  writeCoil(unitId: number, address: number, value: boolean): Promise<void> {
    return this.run(unitId, async (c) => {
      await c.writeCoil(address, value);
    });
  }

  writeRegisters(unitId: number, address: number, words: number[]): Promise<void> {
    return this.run(unitId, async (c) => {
      if (words.length === 1) await c.writeRegister(address, words[0] ?? 0);
      else await c.writeRegisters(address, words);
    });
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(({ client }) => new Promise<void>((resolve) => client.close(() => resolve()))));
  }

  private run<T>(unitId: number, op: (client: ModbusRTU) => Promise<T>): Promise<T> {
    const key = this.config.transport === 'tcp' ? `unit${unitId}` : 'bus';
    let entry = this.clients.get(key);
    if (!entry) {
      const client = new ModbusRTU();
      // The port reports a dead line (EIO on an unplugged adapter, a reset socket) as an 'error' event, which
      // would end the process if nobody listened. The request in flight fails by its timeout; the line is
      // closed so the next request opens it afresh.
      client.on('error', () => {
        if (client.isOpen) client.close(() => undefined);
      });
      entry = { client, queue: Promise.resolve() };
      this.clients.set(key, entry);
    }
    const { client } = entry;
    const next = entry.queue.then(async () => {
      if (!client.isOpen) await this.connect(client);
      client.setID(unitId);
      client.setTimeout(this.timeoutMs);
      return op(client);
    });
    entry.queue = next.catch(() => undefined);
    return next;
  }

  private async connect(client: ModbusRTU): Promise<void> {
    const c = this.config;
    if (c.transport === 'tcp') await client.connectTCP(c.host, { port: c.port, timeout: this.timeoutMs });
    else await client.connectRTUBuffered(c.path, { baudRate: c.baudRate });
  }
}
