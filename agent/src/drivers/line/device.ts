import type { LineClient, LineClientOptions, LineStats } from './client';

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

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
