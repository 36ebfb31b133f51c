import { z } from 'zod';
import { DeviceIdSchema, TimestampSchema } from '../common';
import { type Decoded, decoded, ProtocolError, rejected } from '../errors';
import { UlidSchema } from '../ids';
import { Limits } from '../limits';
import { PROTOCOL_MAJOR, PROTOCOL_VERSION, parseVersion } from '../version';
import {
  type BodyOf,
  MESSAGE_TYPES,
  MessageCatalog,
  type MessageType,
  RECORD_TYPES,
  type RecordType,
} from './catalog';

const headerShape = {
  /** Protocol version `major.minor` of the sender. */
  v: z.string().regex(/^\d{1,3}\.\d{1,3}$/),
  /** ULID: unique and sortable; the hub de-duplicates on it. */
  id: UlidSchema,
  deviceId: DeviceIdSchema,
  /** Per-device record sequence, contiguous from 1 within an epoch; 0 for messages that are not records. */
  seq: z.number().int().min(0),
  ts: TimestampSchema,
  /**
   * The ledger epoch (since 1.1): a ULID minted with each new device ledger. `seq` restarts at 1 in a new
   * epoch, so the receiver tracks sequences per (device, epoch). Absent from older senders.
   */
  epoch: UlidSchema.optional(),
};

export const EnvelopeHeaderSchema = z.object({ ...headerShape, type: z.string().min(1).max(32) });

function envelopeOf<T extends MessageType>(type: T) {
  return z.object({
    ...headerShape,
    type: z.literal(type),
    body: MessageCatalog[type].schema as (typeof MessageCatalog)[T]['schema'],
  });
}

const envelopeSchemas = MESSAGE_TYPES.map((t) => envelopeOf(t));

export const EnvelopeSchema = z.discriminatedUnion(
  'type',
  envelopeSchemas as unknown as [
    ReturnType<typeof envelopeOf<MessageType>>,
    ...ReturnType<typeof envelopeOf<MessageType>>[],
  ],
);

export type Envelope<T extends MessageType = MessageType> = {
  [K in T]: {
    v: string;
    id: string;
    deviceId: string;
    seq: number;
    ts: number;
    epoch?: string;
    type: K;
    body: BodyOf<K>;
  };
}[T];
export type RecordEnvelope = Envelope<RecordType>;

export const RecordEnvelopeSchema = z.discriminatedUnion(
  'type',
  RECORD_TYPES.map((t) => envelopeOf(t)) as unknown as [
    ReturnType<typeof envelopeOf<RecordType>>,
    ...ReturnType<typeof envelopeOf<RecordType>>[],
  ],
);

export function makeEnvelope<T extends MessageType>(
  type: T,
  fields: { id: string; deviceId: string; seq?: number; ts: number; epoch?: string },
  body: BodyOf<T>,
): Envelope<T> {
  return {
    v: PROTOCOL_VERSION,
    id: fields.id,
    deviceId: fields.deviceId,
    seq: fields.seq ?? 0,
    ts: fields.ts,
    ...(fields.epoch !== undefined ? { epoch: fields.epoch } : {}),
    type,
    body,
  } as Envelope<T>;
}

const encoder = new TextEncoder();

/** Validates and serialises; throws ProtocolError because bad output is a programming error. */
export function encodeEnvelope(envelope: Envelope): string {
  const result = validateEnvelope(envelope);
  if (!result.ok) throw result.error;
  const text = JSON.stringify(result.value);
  const limit = MessageCatalog[envelope.type].maxBytes;
  if (encoder.encode(text).byteLength > limit)
    throw new ProtocolError('MESSAGE_TOO_LARGE', `${envelope.type} over ${limit} bytes`);
  return text;
}

/** Parses untrusted bytes into a valid envelope, or a coded error. Never throws. */
export function decodeEnvelope(raw: string | Uint8Array): Decoded<Envelope> {
  const bytes = typeof raw === 'string' ? encoder.encode(raw).byteLength : raw.byteLength;
  if (bytes > Limits.largeMessageBytes) return rejected('MESSAGE_TOO_LARGE', `message of ${bytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return rejected('MALFORMED_JSON');
  }
  const result = validateEnvelope(json);
  if (result.ok && bytes > MessageCatalog[result.value.type].maxBytes) {
    return rejected('MESSAGE_TOO_LARGE', `${result.value.type} of ${bytes} bytes`);
  }
  return result;
}

/** Validates an already-parsed value (e.g. one record of a batch). */
export function validateEnvelope(value: unknown): Decoded<Envelope> {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'string' && parseVersion(v) && parseVersion(v)?.major !== PROTOCOL_MAJOR) {
    return rejected('UNSUPPORTED_VERSION', `version ${v.slice(0, 10)}`);
  }
  const header = EnvelopeHeaderSchema.safeParse(value);
  if (!header.success)
    return rejected('VALIDATION_FAILED', z.prettifyError(header.error), header.error.issues);
  if (!Object.hasOwn(MessageCatalog, header.data.type)) {
    return rejected('UNKNOWN_MESSAGE_TYPE', `type ${header.data.type}`);
  }
  // A record without a number could never be ordered, de-duplicated or checked for gaps.
  if (MessageCatalog[header.data.type as MessageType].record && header.data.seq < 1) {
    return rejected('VALIDATION_FAILED', `seq: a ${header.data.type} record is numbered from 1`);
  }
  const full = EnvelopeSchema.safeParse(value);
  if (!full.success) return rejected('VALIDATION_FAILED', z.prettifyError(full.error), full.error.issues);
  return decoded(full.data as Envelope);
}

/** A refused batch record, with the number and epoch it carried when readable (so its slot is accounted). */
export type RefusedRecord = {
  id?: string;
  seq?: number;
  epoch?: string;
  deviceId?: string;
  error: ProtocolError;
};

/** Decodes a batch body's records one by one: good ones and coded rejections, so one bad record spoils nothing. */
export function splitBatch(records: unknown[]): { good: RecordEnvelope[]; bad: RefusedRecord[] } {
  const good: RecordEnvelope[] = [];
  const bad: RefusedRecord[] = [];
  for (const record of records) {
    const result = validateEnvelope(record);
    if (result.ok && MessageCatalog[result.value.type].record) {
      good.push(result.value as RecordEnvelope);
      continue;
    }
    const error = result.ok
      ? new ProtocolError('VALIDATION_FAILED', `${result.value.type} is not a record`)
      : result.error;
    bad.push({ ...readableHeader(record), error });
  }
  return { good, bad };
}

/** What can be read of a refused message's header (id, record number, epoch, device), never throwing. */
export function readableHeader(record: unknown): Omit<RefusedRecord, 'error'> {
  if (record === null || typeof record !== 'object') return {};
  const r = (record ?? {}) as { id?: unknown; seq?: unknown; epoch?: unknown; deviceId?: unknown };
  return {
    ...(typeof r.id === 'string' ? { id: r.id } : {}),
    ...(Number.isSafeInteger(r.seq) && (r.seq as number) >= 1 ? { seq: r.seq as number } : {}),
    ...(UlidSchema.safeParse(r.epoch).success ? { epoch: r.epoch as string } : {}),
    ...(typeof r.deviceId === 'string' ? { deviceId: r.deviceId } : {}),
  };
}
