/**
 * How the API tells the MQTT side that a device must be dropped (its credential was revoked or rotated).
 * The composition root registers the MQTT gateway's handler; without one (external broker without admin access) the change
 * still takes effect at the device's next connect, because authentication reads the store.
 */
export type DisconnectHandler = (deviceId: string) => void;

export class DeviceSessions {
  private readonly handlers = new Set<DisconnectHandler>();

  onDisconnect(handler: DisconnectHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  disconnect(deviceId: string): void {
    for (const handler of this.handlers) handler(deviceId);
  }
}

/** Latest fleet state of a device (online, versions, telemetry, materials, alarms) as ingest recorded it. */
export type DeviceStateReader = (deviceId: string) => Promise<object | null>;
