/**
 * How the API tells the MQTT side that a device must be dropped (its credential was revoked or rotated).
 * The composition root registers the MQTT gateway's handler; without one (external broker without admin access) the change
 * still takes effect at the device's next connect, because authentication reads the store.
 */
export type DisconnectHandler = (deviceId: string) => void;

/** A device credential changed: `set` on register and rotate (with the new secret), `revoke`. */
export type CredentialChange = { deviceId: string } & ({ kind: 'set'; secret: string } | { kind: 'revoke' });

/**
 * Where device credentials also live outside the store (an external broker's own user database, e.g.
 * Mosquitto's dynamic security plugin). Runs inside the API's transaction, before it commits: when the broker
 * refuses or does not answer, the change is rolled back and the caller gets an error to retry.
 */
export type CredentialProvisioner = (change: CredentialChange) => Promise<void>;

export class DeviceSessions {
  private readonly handlers = new Set<DisconnectHandler>();
  private readonly provisioners = new Set<CredentialProvisioner>();

  onCredentialChange(provisioner: CredentialProvisioner): () => void {
    this.provisioners.add(provisioner);
    return () => this.provisioners.delete(provisioner);
  }

  /** Applies a credential change to every provisioner (none with the embedded broker: it reads the store). */
  async credentialChanged(change: CredentialChange): Promise<void> {
    for (const provision of this.provisioners) await provision(change);
  }

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
