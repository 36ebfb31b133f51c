import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Broker, ingest and fleet metrics, registered on the registry the hub passes in (its `/metrics`). */
export class MqttMetrics {
  readonly received: Counter<'type'>;
  readonly rejected: Counter<'code'>;
  readonly stored: Counter<'type'>;
  readonly duplicates: Counter;
  readonly writeFailures: Counter;
  readonly dropped: Counter;
  readonly batchSeconds: Histogram;
  readonly authFailures: Counter<'reason'>;
  readonly aclDenied: Counter<'action'>;
  readonly connections: Gauge;
  readonly devicesOnline: Gauge;
  readonly gaps: Counter;
  readonly sequenceBackwards: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.received = new Counter({
      name: 'crema_ingest_messages_total',
      help: 'MQTT messages received from devices, by message type (unknown when undecodable)',
      labelNames: ['type'] as const,
      registers,
    });
    this.rejected = new Counter({
      name: 'crema_ingest_rejected_total',
      help: 'Messages or records refused by ingest, by error code',
      labelNames: ['code'] as const,
      registers,
    });
    this.stored = new Counter({
      name: 'crema_ingest_records_stored_total',
      help: 'Records durably stored, by type',
      labelNames: ['type'] as const,
      registers,
    });
    this.duplicates = new Counter({
      name: 'crema_ingest_duplicates_total',
      help: 'Records received again after they were stored (acknowledged again, not stored)',
      registers,
    });
    this.writeFailures = new Counter({
      name: 'crema_ingest_write_failures_total',
      help: 'Ingest transactions that failed (nothing acknowledged; devices resend)',
      registers,
    });
    this.dropped = new Counter({
      name: 'crema_ingest_dropped_total',
      help: 'Records dropped unacknowledged because the write queue was full (devices resend)',
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'crema_ingest_batch_seconds',
      help: 'Duration of one ingest write transaction',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.authFailures = new Counter({
      name: 'crema_mqtt_auth_failures_total',
      help: 'MQTT connections refused by the embedded broker, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.aclDenied = new Counter({
      name: 'crema_mqtt_acl_denied_total',
      help: 'Publish or subscribe attempts outside the device topic prefix',
      labelNames: ['action'] as const,
      registers,
    });
    this.connections = new Gauge({
      name: 'crema_mqtt_connections',
      help: 'Devices connected to the embedded broker (the hub itself not counted)',
      registers,
    });
    this.devicesOnline = new Gauge({
      name: 'crema_devices_online',
      help: 'Devices the fleet tracker considers online',
      registers,
    });
    this.gaps = new Counter({
      name: 'crema_ingest_sequence_gaps_total',
      help: 'Sequence gaps detected (records missing between two received ones)',
      registers,
    });
    this.sequenceBackwards = new Counter({
      name: 'crema_ingest_sequence_backwards_total',
      help: 'Records whose sequence number was already used in the same ledger epoch (a ledger went backwards)',
      registers,
    });
  }
}
