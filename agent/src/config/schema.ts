import { CurrencySchema, DeviceIdSchema, IdSchema } from '@crema/protocol';
import { z } from 'zod';
import { isLoopbackHost } from '../api/guards/host';
import { DriversConfigSchema } from '../drivers/config';
import { MaintenanceConfigSchema } from '../maintenance/policy';
import { BinsConfigSchema } from '../monitor/bins';
import { HubConfigSchema } from './hub';
import { UpdatesConfigSchema } from './updates';

const port = z.number().int().min(0).max(65_535);
const lowThreshold = z.object({ low: z.number().min(0), margin: z.number().min(0) }).strict();

/** The agent's whole configuration: one JSON file plus `CREMA_AGENT_*` overrides, checked once at start-up. */
export const AgentConfigSchema = z
  .object({
    deviceId: DeviceIdSchema,
    model: IdSchema.default('crema-one'),
    /** Directory of the SQLite ledger; created if missing. */
    dataDir: z.string().min(1).max(4096),
    currency: CurrencySchema.default('EUR'),
    drivers: DriversConfigSchema,
    api: z
      .object({
        /** Loopback by default: the touchscreen is on the same board. */
        host: z.string().min(1).max(255).default('127.0.0.1'),
        /** 0 picks a free port (printed in the ready line). */
        port: port.default(8080),
        bodyLimitBytes: z
          .number()
          .int()
          .min(256)
          .max(1_048_576)
          .default(16 * 1024),
        /**
         * The technician credential for service actions (`Authorization: Bearer …`); without it they are
         * refused. Required to bind beyond loopback. Generate one per machine, e.g. `openssl rand -hex 24`.
         */
        technicianToken: z
          .string()
          .min(24, 'at least 24 characters (e.g. openssl rand -hex 24)')
          .max(256)
          .regex(/^\S+$/, 'no whitespace')
          .optional(),
        /** Host names (besides loopback and `host`) the API answers to; any other Host header is refused. */
        allowedHosts: z.array(z.string().min(1).max(255)).max(32).default([]),
      })
      .strict()
      .superRefine((api, ctx) => {
        if (!isLoopbackHost(api.host) && api.technicianToken === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['host'],
            message: `binding beyond loopback (${api.host}) needs api.technicianToken`,
          });
        }
      })
      .default({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 16 * 1024, allowedHosts: [] }),
    /** The hub this machine syncs with; without it the machine sells offline only (records wait in the outbox). */
    hub: HubConfigSchema.optional(),
    /** Firmware and agent updates received from the hub. */
    updates: UpdatesConfigSchema.default({ healthCheck: {} }),
    outbox: z
      .object({
        /** Records past this many bytes push out the lowest class first (telemetry, then materials …, never money). */
        maxBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .max(8 * 1024 ** 3)
          .default(64 * 1024 ** 2),
      })
      .strict()
      .default({ maxBytes: 64 * 1024 ** 2 }),
    storage: z
      .object({
        /**
         * Disk kept back so that, when the volume fills, the agent can still record failures and voids of the
         * money it already took. New sales need this much free besides it (see agent/README.md, "Disk").
         */
        reserveBytes: z
          .number()
          .int()
          .min(0)
          .max(256 * 1024 ** 2)
          .default(1024 ** 2),
      })
      .strict()
      .default({ reserveBytes: 1024 ** 2 }),
    /** Bin number → material code (and unit, optional capacity); bins 1 to 5 hold the five default kinds. */
    bins: BinsConfigSchema,
    /** Material alarms (see monitor/alarms.ts): raise below `low`, clear at `low + margin`; unset keeps the default. */
    thresholds: z
      .object({
        water: lowThreshold,
        beans: lowThreshold,
        milk: lowThreshold,
        cups: lowThreshold,
        waste: z.object({ high: z.number().min(1).max(100), margin: z.number().min(0).max(50) }).strict(),
      })
      .partial()
      .strict()
      .default({}),
    orders: z
      .object({
        /** How long the terminal may wait for the card. */
        authTimeoutMs: z.number().int().min(1000).max(300_000).default(60_000),
        /** Other payment requests (capture, void, status). */
        paymentTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
        /** How often open orders and pending voids are retried. */
        reconcileIntervalMs: z.number().int().min(100).max(600_000).default(5_000),
      })
      .strict()
      .default({ authTimeoutMs: 60_000, paymentTimeoutMs: 5_000, reconcileIntervalMs: 5_000 }),
    /** Rinse and descale: when due, run unattended or not, lock sales when overdue (agent/README.md). */
    maintenance: MaintenanceConfigSchema.prefault({}),
  })
  .strict();

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;
