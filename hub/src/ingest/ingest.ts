import {
  decodeEnvelope,
  type Envelope,
  type ErrorCode,
  Limits,
  MessageCatalog,
  type ProtocolError,
  parseTopic,
  type RecordEnvelope,
  readableHeader,
  splitBatch,
  topicForType,
  UlidSchema,
} from '@crema/protocol';
import type { Logger } from 'pino';
import type { FleetEvents } from '../fleet/events';
import type { FleetTracker } from '../fleet/tracker';
import type { MqttMetrics } from '../mqtt/metrics';
import type { DeviceDirectory } from './directory';
import { leadingId } from './leading-id';
import type { IngestWriter } from './writer';

export interface IngestOptions {
  logger: Logger;
  metrics: MqttMetrics;
  directory: DeviceDirectory;
  writer: IngestWriter;
  fleet: FleetTracker;
  events: FleetEvents;
}

/**
 * The hub's handling of every uplink message: size, topic, envelope, device id = topic device, type on its
 * channel, a registered device. Records go to the batch writer; status messages to the fleet tracker.
 * Anything refused is counted and logged; a record with a readable id is acknowledged as rejected so the
 * device stops resending it. Nothing here throws.
 */
export class Ingest {
  private readonly log: Logger;

  constructor(private readonly options: IngestOptions) {
    this.log = options.logger.child({ ns: 'hub:ingest' });
  }

  handle(topic: string, payload: Buffer): void {
    try {
      this.route(topic, payload);
    } catch (err) {
      this.options.metrics.rejected.inc({ code: 'INTERNAL' });
      this.log.error({ err, topic: topic.slice(0, 120) }, 'ingest failed on a message');
    }
  }

  private route(topic: string, payload: Buffer): void {
    const { metrics } = this.options;
    const parsedTopic = parseTopic(topic);
    if (!parsedTopic.ok) {
      this.refuse(parsedTopic.error, topic);
      return;
    }
    const { deviceId, channel, direction } = parsedTopic.value;
    if (direction !== 'up') return; // downlink traffic is the hub's own
    if (payload.byteLength > Limits.largeMessageBytes) {
      metrics.received.inc({ type: 'unknown' });
      // Not parsed: answered by the id at its start, when there is one (docs/protocol.md §3).
      const message = `${payload.byteLength} bytes`;
      this.refuse({ code: 'MESSAGE_TOO_LARGE', message }, topic, deviceId, leadingId(payload));
      return;
    }
    const decoded = decodeEnvelope(payload);
    if (!decoded.ok) {
      metrics.received.inc({ type: 'unknown' });
      this.refuseNumbered(decoded.error, topic, deviceId, readableId(payload), parsedHeader(payload));
      return;
    }
    const envelope = decoded.value;
    metrics.received.inc({ type: envelope.type });
    if (envelope.deviceId !== deviceId) {
      const message = `envelope device ${envelope.deviceId} on topic of ${deviceId}`;
      this.refuse({ code: 'DEVICE_MISMATCH', message }, topic, deviceId, envelope.id);
      return;
    }
    const rule = MessageCatalog[envelope.type];
    if (rule.channel !== channel || rule.dir !== 'up') {
      const message = `${envelope.type} does not belong on channel ${channel}`;
      this.refuseNumbered({ code: 'VALIDATION_FAILED', message }, topic, deviceId, envelope.id, envelope);
      return;
    }
    this.dispatch(topic, envelope);
  }

  /**
   * A publish the broker's ACL refused and discarded (another device's topic, a downlink channel, a topic
   * outside Crema): answered with TOPIC_FORBIDDEN on the sender's own ack topic when its id can be read.
   */
  refuseForbidden(deviceId: string, topic: string, payload: Buffer): void {
    try {
      const message = `publish to ${topic.slice(0, 120)} refused`;
      this.refuse({ code: 'TOPIC_FORBIDDEN', message }, topic, deviceId, readableId(payload));
    } catch (err) {
      this.log.error({ err, deviceId }, 'answering a refused publish failed');
    }
  }

  /** A publish over the broker's packet limit, skipped unread: answered by the id at the start of its payload. */
  refuseOversized(deviceId: string, topic: string, head: Buffer, bytes: number): void {
    try {
      this.options.metrics.received.inc({ type: 'unknown' });
      const message = `${bytes} bytes`;
      this.refuse({ code: 'MESSAGE_TOO_LARGE', message }, topic, deviceId, leadingId(head));
    } catch (err) {
      this.log.error({ err, deviceId }, 'answering an oversized publish failed');
    }
  }

  /**
   * An uplink envelope already decoded and checked against its sender (the HTTP fallback): the same path as
   * MQTT from the device lookup on, without parsing the payload a second time.
   */
  handleEnvelope(envelope: Envelope): void {
    try {
      this.options.metrics.received.inc({ type: envelope.type });
      this.dispatch(topicForType(envelope.deviceId, envelope.type), envelope);
    } catch (err) {
      this.options.metrics.rejected.inc({ code: 'INTERNAL' });
      this.log.error({ err, type: envelope.type }, 'ingest failed on a message');
    }
  }

  private dispatch(topic: string, envelope: Envelope): void {
    const { deviceId } = envelope;
    this.options.directory.resolve(deviceId, (device) => {
      if (device) this.accept(deviceId, device.merchantId, envelope);
      // Not acknowledged, not even as rejected: the device may be registered a moment later.
      else this.refuse({ code: 'DEVICE_UNKNOWN', message: deviceId }, topic);
    });
  }

  private accept(deviceId: string, merchantId: string, envelope: Envelope): void {
    const { fleet } = this.options;
    switch (envelope.type) {
      case 'birth':
        fleet.birth(deviceId, merchantId, envelope);
        break;
      case 'death':
        fleet.death(deviceId, merchantId, envelope);
        break;
      case 'heartbeat':
        fleet.heartbeat(deviceId, merchantId, envelope);
        break;
      case 'command_progress':
        fleet.seen(deviceId, merchantId);
        this.options.events.emit('commandProgress', { deviceId, merchantId, envelope });
        break;
      case 'batch': {
        fleet.seen(deviceId, merchantId);
        const { good, bad } = splitBatch(envelope.body.records);
        for (const record of good) this.enqueueRecord(deviceId, merchantId, record, `batch ${envelope.id}`);
        for (const r of bad) {
          // A refused record of this device still used its number: account for it, or its gap never closes.
          const slot =
            r.seq !== undefined && r.deviceId === deviceId
              ? { merchantId, seq: r.seq, ...(r.epoch ? { epoch: r.epoch } : {}) }
              : undefined;
          this.refuse(r.error, `batch ${envelope.id}`, deviceId, r.id, slot);
        }
        break;
      }
      case 'ack':
      case 'command':
        break; // downlink types never get here: the channel check refused them
      default:
        fleet.seen(deviceId, merchantId);
        this.enqueueRecord(deviceId, merchantId, envelope, envelope.type);
    }
  }

  private enqueueRecord(deviceId: string, merchantId: string, record: RecordEnvelope, where: string): void {
    if (record.deviceId === deviceId) {
      this.options.writer.enqueue({ deviceId, merchantId, envelope: record });
      return;
    }
    const message = `record of ${record.deviceId} from ${deviceId}`;
    this.refuse({ code: 'DEVICE_MISMATCH', message }, where, deviceId, record.id);
  }

  /**
   * Refuses a message that may be a numbered record of this device: its number is accounted for (once the
   * device's merchant is known), so the gap it would leave does not stay open forever.
   */
  private refuseNumbered(
    error: Pick<ProtocolError, 'code' | 'message'>,
    where: string,
    deviceId: string,
    id: string | undefined,
    header: { seq?: number; epoch?: string; deviceId?: string },
  ): void {
    const { seq, epoch } = header;
    if (seq === undefined || seq < 1 || header.deviceId !== deviceId || id === undefined) {
      this.refuse(error, where, deviceId, id);
      return;
    }
    this.options.directory.resolve(deviceId, (device) => {
      const slot = device ? { merchantId: device.merchantId, seq, ...(epoch ? { epoch } : {}) } : undefined;
      this.refuse(error, where, deviceId, id, slot);
    });
  }

  private refuse(
    error: Pick<ProtocolError, 'code' | 'message'>,
    where: string,
    deviceId?: string,
    id?: string,
    slot?: { merchantId: string; seq: number; epoch?: string },
  ): void {
    const code: ErrorCode = error.code;
    this.options.metrics.rejected.inc({ code });
    this.log.warn(
      { code, message: error.message.slice(0, 200), where: where.slice(0, 120), deviceId, id },
      'refused',
    );
    if (deviceId && id && UlidSchema.safeParse(id).success) {
      this.options.writer.reject(deviceId, id, code, error.message, slot);
    }
  }
}

/** The readable header of an undecodable message (its record number, if any). */
function parsedHeader(payload: Buffer): ReturnType<typeof readableHeader> {
  try {
    return readableHeader(JSON.parse(payload.toString('utf8')));
  } catch {
    return {};
  }
}

/** The id of an undecodable message, when it has one, so it can be acknowledged as rejected. */
function readableId(payload: Buffer): string | undefined {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && UlidSchema.safeParse(id).success ? id : undefined;
  } catch {
    return undefined;
  }
}
