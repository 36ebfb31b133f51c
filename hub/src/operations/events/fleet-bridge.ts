import type { FleetEvents } from '../../fleet/events';
import type { OpsEventBus } from './bus';

/** Record types that are worth a live event, with the body fields the event carries. */
const RECORD_EVENTS = new Set(['order', 'payment', 'alarm', 'materials', 'command_result']);

/** Forwards fleet changes (online/offline, stored records) to the live-event bus; returns the unsubscriber. */
export function bridgeFleetEvents(fleet: FleetEvents, bus: OpsEventBus): () => void {
  const offs = [
    fleet.on('online', (e) =>
      bus.publish({
        type: 'device.online',
        merchantId: e.merchantId,
        deviceId: e.deviceId,
        at: e.at,
        data: {},
      }),
    ),
    fleet.on('offline', (e) =>
      bus.publish({
        type: 'device.offline',
        merchantId: e.merchantId,
        deviceId: e.deviceId,
        at: e.at,
        data: { reason: e.reason },
      }),
    ),
    fleet.on('stored', ({ records }) => {
      for (const r of records) {
        if (!RECORD_EVENTS.has(r.envelope.type)) continue;
        bus.publish({
          type: `record.${r.envelope.type}`,
          merchantId: r.merchantId,
          deviceId: r.deviceId,
          at: r.envelope.ts,
          data: r.envelope.body as Record<string, unknown>,
        });
      }
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
