import type { Logger } from 'pino';
import type { FleetEvents } from '../fleet/events';
import type { MqttMetrics } from '../mqtt/metrics';
import type { SequenceUpdate } from './sequence-store';

/**
 * Reports committed sequence changes: gaps that opened, a new ledger epoch, numbers seen again (the ledger went
 * backwards), records of an older epoch. Called by whoever folded them (the ingest writer, or the sequencer).
 */
export function reportSequenceUpdates(
  updates: readonly SequenceUpdate[],
  to: { log: Logger; metrics: MqttMetrics; events: FleetEvents },
): void {
  const { log, metrics, events } = to;
  for (const u of updates) {
    const { deviceId, merchantId } = u;
    for (const gap of u.opened) {
      metrics.gaps.inc();
      log.warn({ deviceId, from: gap.from, to: gap.to }, 'sequence gap');
      events.emit('gap', { deviceId, merchantId, ...gap });
    }
    if (u.epochChange) {
      log.warn({ deviceId, ...u.epochChange }, 'device started a new ledger epoch; sequence restarts');
      events.emit('ledgerEpoch', { deviceId, merchantId, ...u.epochChange });
    }
    if (u.reused.length > 0) {
      metrics.sequenceBackwards.inc(u.reused.length);
      log.error({ deviceId, seqs: u.reused.slice(0, 20) }, 'sequence went backwards within one epoch');
      events.emit('sequenceBackwards', {
        deviceId,
        merchantId,
        epoch: u.state.epoch ?? null,
        seqs: u.reused.slice(0, 100),
      });
    }
    if (u.staleEpoch.length > 0) {
      log.warn({ deviceId, seqs: u.staleEpoch.slice(0, 20) }, 'records of an older ledger epoch');
    }
  }
}
