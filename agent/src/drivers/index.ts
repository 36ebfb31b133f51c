import type { Logger } from '../log/logger';
import type { Clock } from '../time/clock';
import { SerialBrewer } from './brewer/serial-brewer';
import type { DriversConfig } from './config';
import type { IdentityMemory } from './line/identity';
import { ModbusBoards } from './modbus/boards';
import { ModbusSerialLink } from './modbus/link';
import { LinePaymentTerminal } from './payment/line-terminal';
import { createTransport } from './transport';

export { SerialBrewer } from './brewer/serial-brewer';
export type { Brewer, BrewerEvent, Transport } from './brewer/types';
export * from './config';
export { asIdentity, type DeviceIdentity, type IdentityMemory } from './line/identity';
export { ModbusBoards } from './modbus/boards';
export { FakeModbusLink } from './modbus/fake-link';
export { ModbusSerialLink } from './modbus/link';
export type { AuxBoards, AuxSnapshot, BoardHealth } from './modbus/types';
export { LinePaymentTerminal } from './payment/line-terminal';
export type { PaymentOutcome, PaymentTerminal } from './payment/types';
export { createTransport, FakeTransport } from './transport';

export type Drivers = { brewer: SerialBrewer; payment: LinePaymentTerminal; boards: ModbusBoards };

/**
 * The real drivers from validated configuration. Nothing is opened until each one's `start()`. `brewerMemory`
 * keeps the brewer's identity across restarts, so a brewer swapped while the agent was down is refused too.
 */
export function createDrivers(
  config: DriversConfig,
  deps: { clock: Clock; logger: Logger; brewerMemory?: IdentityMemory },
): Drivers {
  const { clock, logger } = deps;
  return {
    brewer: new SerialBrewer({
      transport: createTransport(config.brewer),
      clock,
      logger,
      ...(deps.brewerMemory ? { memory: deps.brewerMemory } : {}),
    }),
    payment: new LinePaymentTerminal({ transport: createTransport(config.payment), clock, logger }),
    boards: new ModbusBoards({
      link: new ModbusSerialLink(config.modbus, config.modbus.timeoutMs),
      clock,
      logger,
      pollIntervalMs: config.modbus.pollIntervalMs,
      timeoutMs: config.modbus.timeoutMs,
    }),
  };
}
