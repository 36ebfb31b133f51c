import { describe, expect, it } from 'vitest';
import { DriversConfigSchema } from './config';
import { createTransport } from './transport';

describe('driver configuration', () => {
  it('fills defaults for baud rates, poll interval and timeout', () => {
    const c = DriversConfigSchema.parse({
      brewer: { transport: 'serial', path: '/dev/ttyUSB0' },
      payment: { transport: 'tcp', host: '10.0.0.5', port: 4001 },
      modbus: { transport: 'rtu', path: '/dev/ttyUSB1' },
    });
    expect(c.brewer).toEqual({ transport: 'serial', path: '/dev/ttyUSB0', baudRate: 115_200 });
    expect(c.modbus).toEqual({
      transport: 'rtu',
      path: '/dev/ttyUSB1',
      baudRate: 19_200,
      pollIntervalMs: 1000,
      timeoutMs: 500,
    });
    expect(createTransport(c.brewer).description).toBe('serial /dev/ttyUSB0@115200');
    expect(createTransport(c.payment).description).toBe('tcp 10.0.0.5:4001');
  });

  it('names the field that is wrong', () => {
    const r = DriversConfigSchema.safeParse({
      brewer: { transport: 'tcp', host: 'gw', port: 70_000 },
      payment: { transport: 'usb', path: 'x' },
      modbus: { transport: 'tcp', host: 'gw', port: 502, timeoutMs: 5 },
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['brewer.port', 'payment.transport', 'modbus.timeoutMs']));
  });
});
