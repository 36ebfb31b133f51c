import { isDeviceTopicAllowed } from '@crema/protocol';

/**
 * Who a connected client is: a device (confined to its own topic prefix) or the hub's own internal client
 * (publishes acks and commands to every device, subscribes to every uplink).
 */
export type Identity = { kind: 'device'; deviceId: string; merchantId: string } | { kind: 'hub' };

/** The broker's ACL decision for one publish or subscribe; pure so it can be tested without a socket. */
export function isAllowed(identity: Identity, topic: string, action: 'publish' | 'subscribe'): boolean {
  if (identity.kind === 'hub') return true;
  return isDeviceTopicAllowed(identity.deviceId, topic, action);
}
