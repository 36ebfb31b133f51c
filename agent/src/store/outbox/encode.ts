import {
  type BodyOf,
  type Envelope,
  encodeEnvelope,
  MessageCatalog,
  makeEnvelope,
  type RecordEnvelope,
  type RecordType,
} from '@crema/protocol';
import { OUTBOX_CLASSES, type OutboxClass, type OutboxOptions } from './types';

export type EncodedRecord = {
  envelope: RecordEnvelope;
  payload: string;
  bytes: number;
  priority: number;
};

/** Builds and validates the envelope (a bad body is a programming error and throws before anything is stored). */
export function encodeRecord<T extends RecordType>(
  type: T,
  body: BodyOf<T>,
  seq: number,
  options: OutboxOptions,
): EncodedRecord {
  const payload = encodeEnvelope(
    makeEnvelope(
      type,
      {
        id: options.ulid(),
        deviceId: options.deviceId,
        seq,
        ts: options.now(),
        ...(options.epoch ? { epoch: options.epoch } : {}),
      },
      body,
    ) as Envelope,
  );
  // The stored form is the validated one (defaults applied, unknown fields stripped).
  const envelope = JSON.parse(payload) as RecordEnvelope;
  return { envelope, payload, bytes: Buffer.byteLength(payload), priority: MessageCatalog[type].priority };
}

export function classOf(priority: number): OutboxClass {
  return OUTBOX_CLASSES[priority] ?? 'telemetry';
}
