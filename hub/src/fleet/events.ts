import { EventEmitter } from 'node:events';
import type { Birth, Envelope, Heartbeat } from '@crema/protocol';
import type { QueuedRecord } from '../ingest/rows';

/** What the fleet reports as it happens; the live-events (SSE) feature subscribes to these. */
export interface FleetEventMap {
  online: { deviceId: string; merchantId: string; at: number };
  offline: { deviceId: string; merchantId: string; at: number; reason: OfflineReason };
  birth: { deviceId: string; merchantId: string; at: number; birth: Birth };
  heartbeat: { deviceId: string; merchantId: string; at: number; heartbeat: Heartbeat };
  commandProgress: { deviceId: string; merchantId: string; envelope: Envelope<'command_progress'> };
  /** Records durably stored (after the commit). */
  stored: { records: QueuedRecord[] };
  gap: { deviceId: string; merchantId: string; from: number; to: number };
  /** The device started a new ledger: its sequence restarted at 1 (what the old epoch left is kept). */
  ledgerEpoch: {
    deviceId: string;
    merchantId: string;
    from: string | null;
    to: string;
    lastSeq: number;
    missing: number;
  };
  /** Sequence numbers seen again within one epoch with new records: the device's ledger went backwards. */
  sequenceBackwards: { deviceId: string; merchantId: string; epoch: string | null; seqs: number[] };
}

/** `lost`: last will; `shutdown`: clean goodbye; `timeout`: silent too long; `revoked`: credential revoked. */
export type OfflineReason = 'lost' | 'shutdown' | 'timeout' | 'revoked';

/** A typed EventEmitter over FleetEventMap. Listener errors are the listener's business, not ingest's. */
export class FleetEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof FleetEventMap>(event: K, listener: (payload: FleetEventMap[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  once<K extends keyof FleetEventMap>(event: K, listener: (payload: FleetEventMap[K]) => void): void {
    this.emitter.once(event, listener);
  }

  emit<K extends keyof FleetEventMap>(event: K, payload: FleetEventMap[K]): void {
    try {
      this.emitter.emit(event, payload);
    } catch {
      // a failing subscriber must never break ingest
    }
  }
}
