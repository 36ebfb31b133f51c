import { z } from 'zod';

const host = z.string().min(1).max(255);
const port = z.number().int().min(1).max(65_535);
const devicePath = z.string().min(1).max(4096);

/** Brewer and payment terminal: a serial device, or a serial-to-network gateway over TCP. */
export const LineDeviceConfigSchema = z.discriminatedUnion('transport', [
  z.object({
    transport: z.literal('serial'),
    path: devicePath,
    baudRate: z.number().int().positive().default(115_200),
  }),
  z.object({ transport: z.literal('tcp'), host, port }),
]);
export type LineDeviceConfig = z.infer<typeof LineDeviceConfigSchema>;
export type LineDeviceConfigInput = z.input<typeof LineDeviceConfigSchema>;

/** Auxiliary boards over Modbus TCP or RTU, all units on one link. */
export const ModbusConfigSchema = z.intersection(
  z.discriminatedUnion('transport', [
    z.object({ transport: z.literal('tcp'), host, port }),
    z.object({
      transport: z.literal('rtu'),
      path: devicePath,
      baudRate: z.number().int().positive().default(19_200),
    }),
  ]),
  z.object({
    pollIntervalMs: z.number().int().min(50).max(600_000).default(1000),
    timeoutMs: z.number().int().min(20).max(60_000).default(500),
  }),
);
export type ModbusConfig = z.infer<typeof ModbusConfigSchema>;
export type ModbusConfigInput = z.input<typeof ModbusConfigSchema>;

/** The three driver sections of the agent configuration. */
export const DriversConfigSchema = z.object({
  brewer: LineDeviceConfigSchema,
  payment: LineDeviceConfigSchema,
  modbus: ModbusConfigSchema,
});
export type DriversConfig = z.infer<typeof DriversConfigSchema>;
export type DriversConfigInput = z.input<typeof DriversConfigSchema>;
