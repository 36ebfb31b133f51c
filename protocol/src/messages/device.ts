import { z } from 'zod';
import { IdSchema, SemverSchema } from '../common';
import { MaintenanceReportSchema } from './maintenance';

export const CapabilitySchema = z.enum([
  'milk',
  'hot_water',
  'card_payment',
  'free_vend',
  'firmware_update',
  'http_fallback',
]);

/** Published on every connect (retained on the status channel). */
export const BirthSchema = z.object({
  model: IdSchema,
  firmwareVersion: SemverSchema,
  agentVersion: SemverSchema,
  capabilities: z.array(CapabilitySchema).max(16),
  recipeSetVersion: z.number().int().min(0),
  priceListVersion: z.number().int().min(0),
  configVersion: z.number().int().min(0),
  /** Highest record sequence number the device has produced, so the hub can see gaps at once. */
  lastSeq: z.number().int().min(0),
  bootId: IdSchema,
});
export type Birth = z.infer<typeof BirthSchema>;

/** The MQTT last will (reason `lost`) or a clean goodbye (reason `shutdown`). */
export const DeathSchema = z.object({ reason: z.enum(['lost', 'shutdown']), bootId: IdSchema });
export type Death = z.infer<typeof DeathSchema>;

export const MachineStateSchema = z.enum([
  'starting',
  'idle',
  'brewing',
  'paying',
  'locked',
  'fault',
  'maintenance',
]);
export type MachineState = z.infer<typeof MachineStateSchema>;

export const HeartbeatSchema = z.object({
  state: MachineStateSchema,
  uptimeS: z.number().int().min(0),
  outboxDepth: z.number().int().min(0),
  lastSeq: z.number().int().min(0),
  salesLocked: z.boolean(),
  /** Cleaning compliance (agents from 0.x without it are still accepted). */
  maintenance: MaintenanceReportSchema.optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
