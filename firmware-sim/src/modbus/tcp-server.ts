import type { ModbusTable } from '@crema/protocol';
import { ServerTCP } from 'modbus-serial';
import type { Logger } from '../log';
import { ModbusException, type Outcome, type RegisterBank } from './register-bank';

type Callback = (err: Error | null, values: number[]) => void;

/** Rejection that modbus-serial turns into an exception response. */
const modbusError = (code: number) =>
  Object.assign(new Error(`modbus exception ${code}`), { modbusErrorCode: code });

/**
 * Modbus TCP for the three boards, served by modbus-serial's ServerTCP. Every unit id goes through the bank, so an
 * injected timeout leaves the request unanswered and an injected exception answers with its code.
 */
export class ModbusTcpServer {
  private server: ServerTCP | undefined;
  private boundPort: number;

  constructor(
    private readonly bank: RegisterBank,
    private readonly host: string,
    port: number,
    private readonly logger: Logger,
  ) {
    this.boundPort = port;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.host}:${this.boundPort}`;
  }

  start(): Promise<void> {
    // ServerTCP treats port 0 as "use the default 502"; the string "0" reaches net.listen and picks a free port.
    const server = new ServerTCP(this.vector(), {
      host: this.host,
      port: String(this.boundPort) as unknown as number,
      unitID: 255,
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('serverError', reject);
      server.once('initialized', () => {
        server.off('serverError', reject);
        const inner = (server as unknown as { _server: import('node:net').Server })._server;
        const a = inner.address();
        if (a && typeof a === 'object') this.boundPort = a.port;
        resolve();
      });
      server.on('socketError', (e: Error | null) => this.logger.debug({ err: e }, 'modbus socket error'));
      server.on('error', (e: Error | null) => this.logger.warn({ err: e }, 'modbus server error'));
    });
  }

  /** Closes the listener and drops every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private vector() {
    const read = (unit: number, table: ModbusTable, addr: number, count: number) =>
      this.settle(unit, () => this.bank.read(unit, table, addr, count));
    return {
      getCoil: (addr: number, unit: number) => read(unit, 'coil', addr, 1).then((v) => v[0] === 1),
      getDiscreteInput: (addr: number, unit: number) =>
        read(unit, 'discrete', addr, 1).then((v) => v[0] === 1),
      getInputRegister: (addr: number, unit: number) => read(unit, 'input', addr, 1).then((v) => v[0] ?? 0),
      getHoldingRegister: (addr: number, unit: number) =>
        read(unit, 'holding', addr, 1).then((v) => v[0] ?? 0),
      // Multi-register getters must be callback style: ServerTCP expects a plain array from the others.
      getMultipleInputRegisters: (addr: number, len: number, unit: number, cb: Callback) =>
        void read(unit, 'input', addr, len).then(
          (v) => cb(null, v),
          (e: Error) => cb(e, []),
        ),
      getMultipleHoldingRegisters: (addr: number, len: number, unit: number, cb: Callback) =>
        void read(unit, 'holding', addr, len).then(
          (v) => cb(null, v),
          (e: Error) => cb(e, []),
        ),
      setCoil: (addr: number, value: boolean, unit: number) =>
        this.settle(unit, () => this.bank.writeCoil(unit, addr, value)),
      setRegister: (addr: number, value: number, unit: number) =>
        this.settle(unit, () => this.bank.writeRegister(unit, addr, value)),
    };
  }

  /** Turns a bank outcome into what ServerTCP expects: a value, a rejection with a code, or no answer ever. */
  private settle<T>(unit: number, op: () => Outcome<T>): Promise<T> {
    if (!this.bank.unitIds.includes(unit)) {
      return Promise.reject(modbusError(ModbusException.GATEWAY_TARGET_FAILED));
    }
    const gate = this.bank.gate(unit);
    const outcome = gate.ok ? op() : gate;
    if (outcome.ok) return Promise.resolve(outcome.value);
    if ('silent' in outcome) return new Promise<T>(() => {});
    return Promise.reject(modbusError(outcome.exception));
  }
}
