import {
  type Ack,
  Limits,
  PROTOCOL_VERSION,
  type RecordEnvelope,
  topicFor,
  topicForType,
} from '@crema/protocol';
import type { RecordSender } from './drainer';
import type { DeviceHttpClient } from './http-client';
import type { MqttPublish } from './mqtt-link';

/** `single`: one message per record on its own topic; `batch`: `batch` messages; `auto`: batch when > 1. */
export type BatchMode = 'auto' | 'batch' | 'single';

// Room for the batch envelope around the records.
const BATCH_OVERHEAD = 256;

/** Records over MQTT (QoS 1); resolves when the broker acknowledged every publish (PUBACK). */
export function mqttSender(
  publish: MqttPublish,
  o: { deviceId: string; mode: BatchMode; ulid: () => string; now: () => number },
): RecordSender {
  return {
    name: 'mqtt',
    maxPending: Number.POSITIVE_INFINITY,
    async send(records) {
      if (o.mode === 'single' || (o.mode === 'auto' && records.length === 1)) {
        await Promise.all(
          records.map((r) => publish(topicForType(o.deviceId, r.type), JSON.stringify(r), { qos: 1 })),
        );
        return;
      }
      const topic = topicFor(o.deviceId, 'batch');
      await Promise.all(
        packBatches(records).map((parts) =>
          parts.length === 1 && parts[0] && parts[0].length > Limits.largeMessageBytes - BATCH_OVERHEAD
            ? publish(topicForType(o.deviceId, recordType(parts[0])), parts[0], { qos: 1 })
            : publish(topic, batchPayload(parts, o), { qos: 1 }),
        ),
      );
    },
  };
}

/** Records over HTTP: one POST per call; the answer is the ack, handed straight to the drainer. */
export function httpSender(client: DeviceHttpClient, onAck: (ack: Ack) => void): RecordSender {
  return {
    name: 'http',
    maxPending: 1,
    async send(records) {
      onAck(await client.postRecords(records));
    },
  };
}

/** Serialised records grouped so that each batch stays within the protocol's record and byte limits. */
function packBatches(records: RecordEnvelope[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = BATCH_OVERHEAD;
  for (const r of records) {
    const text = JSON.stringify(r);
    const size = Buffer.byteLength(text) + 1;
    if (
      current.length > 0 &&
      (bytes + size > Limits.largeMessageBytes || current.length >= Limits.batchRecords)
    ) {
      out.push(current);
      current = [];
      bytes = BATCH_OVERHEAD;
    }
    current.push(text);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function batchPayload(
  parts: string[],
  o: { deviceId: string; ulid: () => string; now: () => number },
): string {
  // The records are already validated, serialised envelopes; only the wrapper is built here.
  const head = JSON.stringify({
    v: PROTOCOL_VERSION,
    id: o.ulid(),
    deviceId: o.deviceId,
    seq: 0,
    ts: o.now(),
    type: 'batch',
  });
  return `${head.slice(0, -1)},"body":{"records":[${parts.join(',')}]}}`;
}

function recordType(text: string): RecordEnvelope['type'] {
  return (JSON.parse(text) as RecordEnvelope).type;
}
