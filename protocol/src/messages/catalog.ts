import type { z } from 'zod';
import { Limits } from '../limits';
import { UpdateProgressSchema } from '../updates/progress';
import { AckSchema } from './ack';
import { BatchSchema } from './batch';
import { CommandProgressSchema, CommandResultSchema, CommandSchema } from './command';
import { BirthSchema, DeathSchema, HeartbeatSchema } from './device';
import {
  AlarmSchema,
  MaterialLevelsSchema,
  OrderEventSchema,
  PaymentEventSchema,
  TelemetrySchema,
} from './records';

/**
 * Every message type with its body schema and transport rules. Records are durable: the device keeps them
 * in its outbox, numbers them with its per-device sequence and resends them until the hub acknowledges.
 * Priority orders the outbox: lower drains first (money, then alarms and command results, then the rest).
 */
export const MessageCatalog = {
  birth: {
    dir: 'up',
    channel: 'status',
    qos: 1,
    retain: true,
    record: false,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: BirthSchema,
  },
  death: {
    dir: 'up',
    channel: 'status',
    qos: 1,
    retain: true,
    record: false,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: DeathSchema,
  },
  heartbeat: {
    dir: 'up',
    channel: 'heartbeat',
    qos: 0,
    retain: false,
    record: false,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: HeartbeatSchema,
  },
  order: {
    dir: 'up',
    channel: 'order',
    qos: 1,
    retain: false,
    record: true,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: OrderEventSchema,
  },
  payment: {
    dir: 'up',
    channel: 'payment',
    qos: 1,
    retain: false,
    record: true,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: PaymentEventSchema,
  },
  alarm: {
    dir: 'up',
    channel: 'alarm',
    qos: 1,
    retain: false,
    record: true,
    priority: 1,
    maxBytes: Limits.messageBytes,
    schema: AlarmSchema,
  },
  command_result: {
    dir: 'up',
    channel: 'command_result',
    qos: 1,
    retain: false,
    record: true,
    priority: 1,
    maxBytes: Limits.messageBytes,
    schema: CommandResultSchema,
  },
  materials: {
    dir: 'up',
    channel: 'materials',
    qos: 1,
    retain: false,
    record: true,
    priority: 2,
    maxBytes: Limits.messageBytes,
    schema: MaterialLevelsSchema,
  },
  telemetry: {
    dir: 'up',
    channel: 'telemetry',
    qos: 1,
    retain: false,
    record: true,
    priority: 3,
    maxBytes: Limits.largeMessageBytes,
    schema: TelemetrySchema,
  },
  command_progress: {
    dir: 'up',
    channel: 'command_progress',
    qos: 1,
    retain: false,
    record: false,
    priority: 1,
    maxBytes: Limits.messageBytes,
    schema: CommandProgressSchema,
  },
  update_progress: {
    dir: 'up',
    channel: 'update_progress',
    qos: 1,
    retain: false,
    record: true,
    priority: 1,
    maxBytes: Limits.messageBytes,
    schema: UpdateProgressSchema,
  },
  batch: {
    dir: 'up',
    channel: 'batch',
    qos: 1,
    retain: false,
    record: false,
    priority: 0,
    maxBytes: Limits.largeMessageBytes,
    schema: BatchSchema,
  },
  command: {
    dir: 'down',
    channel: 'command',
    qos: 1,
    retain: false,
    record: false,
    priority: 0,
    maxBytes: Limits.largeMessageBytes,
    schema: CommandSchema,
  },
  ack: {
    dir: 'down',
    channel: 'ack',
    qos: 1,
    retain: false,
    record: false,
    priority: 0,
    maxBytes: Limits.messageBytes,
    schema: AckSchema,
  },
} as const satisfies Record<
  string,
  {
    dir: 'up' | 'down';
    channel: string;
    qos: 0 | 1;
    retain: boolean;
    record: boolean;
    priority: 0 | 1 | 2 | 3;
    maxBytes: number;
    schema: z.ZodType;
  }
>;

export type MessageType = keyof typeof MessageCatalog;
export type RecordType = {
  [K in MessageType]: (typeof MessageCatalog)[K]['record'] extends true ? K : never;
}[MessageType];
export type BodyOf<T extends MessageType> = z.infer<(typeof MessageCatalog)[T]['schema']>;

export const MESSAGE_TYPES = Object.keys(MessageCatalog) as MessageType[];
export const RECORD_TYPES = MESSAGE_TYPES.filter((t) => MessageCatalog[t].record) as RecordType[];

export function isRecordType(type: string): type is RecordType {
  return (RECORD_TYPES as string[]).includes(type);
}
