import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestHub } from '../../support/hub';

/** A real hub (SQLite, embedded broker, HTTP) in a fresh directory, with one merchant to register devices under. */
export class ConformanceHub {
  readonly hub: TestHub;
  merchantId = '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'crema-conformance-'));

  constructor() {
    this.hub = new TestHub(join(this.dir, 'hub'));
  }

  async start(): Promise<void> {
    await this.hub.start();
    this.merchantId = await this.hub.createMerchant('Conformance Coffee');
  }

  async stop(): Promise<void> {
    await this.hub.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Registers a device through the admin API (§2, registration) and returns its credential. */
  register(deviceId: string): Promise<string> {
    return this.hub.registerDevice(deviceId, this.merchantId);
  }

  /** Whether the hub holds a message with this id (stored records are de-duplicated on it, §5). */
  async stored(id: string): Promise<boolean> {
    const row = await this.hub.db
      .selectFrom('received_messages')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** Waits a little so that an answer that should not come has had its chance to. */
export function settle(ms = 400): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
