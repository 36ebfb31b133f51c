import { z } from 'zod';
import {
  AmountSchema,
  BinNumberSchema,
  CurrencySchema,
  IdSchema,
  MaterialCodeSchema,
  MaterialUnitSchema,
  PaymentMethodSchema,
  SeveritySchema,
  TimestampSchema,
} from '../common';
import { Limits } from '../limits';
import { SizeIdSchema } from '../recipe/recipe';

/** Telemetry metric names: snake_case with the unit as suffix (e.g. boiler_temp_c). */
export const MetricNameSchema = z.string().regex(/^[a-z][a-z0-9_]{1,63}$/);

export const TelemetrySampleSchema = z.object({
  ts: TimestampSchema,
  metric: MetricNameSchema,
  value: z.number(),
});
export type TelemetrySample = z.infer<typeof TelemetrySampleSchema>;

export const TelemetrySchema = z.object({
  samples: z.array(TelemetrySampleSchema).min(1).max(Limits.telemetrySamples),
});
export type Telemetry = z.infer<typeof TelemetrySchema>;

export const OrderEventKindSchema = z.enum(['created', 'paid', 'brewing', 'completed', 'failed', 'refunded']);
export type OrderEventKind = z.infer<typeof OrderEventKindSchema>;

export const OrderEventSchema = z.object({
  orderId: IdSchema,
  event: OrderEventKindSchema,
  recipeId: IdSchema,
  size: SizeIdSchema,
  amount: AmountSchema,
  currency: CurrencySchema,
  method: PaymentMethodSchema,
  /** Error code when the event is `failed`. */
  code: z.string().max(64).optional(),
  reason: z.string().max(200).optional(),
  at: TimestampSchema,
});
export type OrderEvent = z.infer<typeof OrderEventSchema>;

export const PaymentEventKindSchema = z.enum(['authorized', 'captured', 'voided', 'declined']);
export type PaymentEventKind = z.infer<typeof PaymentEventKindSchema>;

export const PaymentEventSchema = z.object({
  paymentId: IdSchema,
  orderId: IdSchema,
  event: PaymentEventKindSchema,
  amount: AmountSchema,
  currency: CurrencySchema,
  /** Transaction reference given by the payment terminal. */
  terminalRef: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
  at: TimestampSchema,
});
export type PaymentEvent = z.infer<typeof PaymentEventSchema>;

/**
 * The level of one bin. `bin` is the bin number and `material` the code bound to it; a report without `bin`
 * (older agents, which only know the five default kinds) means the material's default bin.
 */
export const MaterialLevelSchema = z.object({
  bin: BinNumberSchema.optional(),
  material: MaterialCodeSchema,
  level: z.number().min(0),
  capacity: z.number().positive(),
  unit: MaterialUnitSchema,
});
export type MaterialLevel = z.infer<typeof MaterialLevelSchema>;

export const MaterialLevelsSchema = z.object({
  levels: z.array(MaterialLevelSchema).min(1).max(16),
  at: TimestampSchema,
});
export type MaterialLevels = z.infer<typeof MaterialLevelsSchema>;

export const AlarmCodeSchema = z.enum([
  'water_low',
  'water_empty',
  'beans_low',
  'beans_empty',
  'milk_low',
  'milk_empty',
  'cups_low',
  'cups_empty',
  'waste_full',
  'grinder_jam',
  'boiler_overheat',
  'pump_fault',
  'door_open',
  'brewer_offline',
  'board_offline',
  'payment_terminal_offline',
  'storage_full',
  'vend_failed',
]);
export type AlarmCode = z.infer<typeof AlarmCodeSchema>;

export const AlarmSchema = z.object({
  code: AlarmCodeSchema,
  state: z.enum(['raised', 'cleared']),
  severity: SeveritySchema,
  message: z.string().max(200).optional(),
  value: z.number().optional(),
  at: TimestampSchema,
});
export type Alarm = z.infer<typeof AlarmSchema>;
