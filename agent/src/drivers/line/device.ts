import type { LineClient, LineClientOptions, LineStats } from './client';
import type { DeviceIdentity, IdentityRefusal } from './identity';

/** What every line-protocol driver takes; the dialect, verbs and error codes are the driver's own. */
export type LineDeviceOptions = Pick<
  LineClientOptions,
  'transport' | 'clock' | 'logger' | 'requestTimeoutMs' | 'backoff' | 'watchdog'
>;

/** A device reached through one LineClient: its link state, counters and lifecycle are the client's. */
export abstract class LineDevice {
  protected constructor(protected readonly client: LineClient) {}

  get connected(): boolean {
    return this.client.connected;
  }

  get stats(): LineStats {
    return this.client.stats;
  }

  /** Who the device said it was (INFO), where the driver checks identity. */
  get identity(): DeviceIdentity | undefined {
    return this.client.identity;
  }

  /** Set while the link is refused because a different device answers on it. */
  get refusal(): IdentityRefusal | undefined {
    return this.client.refusal;
  }

  /** Accept a replacement device: the next one that answers is pinned instead of refused. */
  forgetIdentity(): void {
    this.client.forgetIdentity();
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
